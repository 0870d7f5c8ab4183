-- The SLA watcher (mla_core.complaints.sla): when it last raised a complaint's breach, so that each
-- complaint raises one per due date (a due date moved past the breach can breach again). Complaints
-- already past their due date count as raised: the office's pages are not flooded with old breaches.
-- Runs with search_path = tenant_<id>.
ALTER TABLE complaints ADD COLUMN sla_breached_at timestamptz;
UPDATE complaints SET sla_breached_at = sla_due_at WHERE sla_due_at < now();
