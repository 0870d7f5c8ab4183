-- LiveKit webhook events already applied, by event id: a retry carries the same id and is skipped.
-- Inserted in the same transaction as the event's effect on the tenant's call row, so an id is here
-- if and only if its effect was committed. Rows older than 7 days are purged
-- (`mla_core.call_events.purge_webhook_events`): LiveKit retries within minutes, and a week of
-- rows is a short trail of what arrived. Runs with search_path = platform.

CREATE TABLE webhook_events (
    id          text PRIMARY KEY,            -- LiveKit's event id (EV_…), the same on every retry
    event       text NOT NULL,               -- room_started, participant_joined, …
    room_name   text NOT NULL,
    tenant_id   text NOT NULL,               -- no foreign key: a short-lived log, kept cheap to write
    created_at  timestamptz,                 -- when LiveKit emitted the event (its created_at)
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
