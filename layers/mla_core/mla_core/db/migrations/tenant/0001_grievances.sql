-- A tenant's grievance tables. Runs with search_path = tenant_<id>; every name below lands in it.
-- Shaped after Open311 / FixMyStreet / CPGRAMS (see shared/reference/domain.md).


CREATE TABLE calls (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_name        text NOT NULL UNIQUE,       -- mla-<tenant>-call_…: the agent and the webhooks meet on it
    caller_number    text,
    dialed_number    text,
    direction        text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound', 'web')),
    language         text,
    status           text NOT NULL DEFAULT 'in_progress'
                     CHECK (status IN ('in_progress', 'completed', 'missed', 'failed')),
    outcome          text,                        -- complaint_logged | status_checked | no_complaint | rejected…
    started_at       timestamptz,
    answered_at      timestamptz,
    ended_at         timestamptz,
    duration_seconds integer,
    end_reason       text,
    notice_played_at timestamptz,                 -- DPDP: when the recording notice was played
    transcript       jsonb NOT NULL DEFAULT '[]'::jsonb,
    latency          jsonb NOT NULL DEFAULT '{}'::jsonb,
    recording_url    text,
    last_event_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_caller_idx ON calls (caller_number, created_at DESC);

CREATE TABLE complaints (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference       bigint NOT NULL UNIQUE,       -- short digits a caller can say; allocated in Redis (INCR)
    idempotency_key text UNIQUE,                  -- one complaint per tool call, however often retried
    channel         text NOT NULL DEFAULT 'phone' CHECK (channel IN ('phone', 'walk_in', 'web', 'manual')),
    category        text NOT NULL,
    description     text NOT NULL CHECK (char_length(description) <= 4000),
    location        text,
    landmark        text,
    caller_name     text,
    caller_number   text,
    language        text,
    room_name       text,                         -- the call it was taken on (calls.room_name)
    status          text NOT NULL DEFAULT 'new' CHECK (status IN (
                        'new', 'acknowledged', 'assigned', 'in_progress', 'resolved', 'closed',
                        'duplicate', 'transferred', 'reopened')),
    priority        text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assigned_to     uuid,
    call_id         uuid REFERENCES calls (id),
    duplicate_of    uuid REFERENCES complaints (id),
    supporter_count integer NOT NULL DEFAULT 1,
    transferred_to  text,
    sla_due_at      timestamptz,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    closed_at       timestamptz
);
CREATE INDEX complaints_created_idx ON complaints (created_at DESC, id DESC);
CREATE INDEX complaints_status_idx ON complaints (status, created_at DESC);
CREATE INDEX complaints_caller_idx ON complaints (caller_number, created_at DESC);
CREATE INDEX complaints_sla_idx ON complaints (sla_due_at) WHERE status NOT IN ('resolved', 'closed', 'duplicate');

-- Append-only trail: every change to a complaint, with who made it and when.
CREATE TABLE complaint_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id uuid NOT NULL REFERENCES complaints (id),
    event_type   text NOT NULL,                  -- created | status_changed | assigned | note | sms_sent…
    from_status  text,
    to_status    text,
    actor_type   text NOT NULL CHECK (actor_type IN ('agent', 'user', 'system', 'constituent')),
    actor_id     text,
    note         text,
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaint_events_complaint_idx ON complaint_events (complaint_id, id);

CREATE TABLE notifications (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    complaint_id        uuid REFERENCES complaints (id),
    channel             text NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient           text NOT NULL,
    purpose             text NOT NULL,            -- complaint_registered | status_update…
    language            text,
    template_id         text,
    body                text NOT NULL,
    status              text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    provider            text,
    provider_message_id text,
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);
CREATE INDEX notifications_complaint_idx ON notifications (complaint_id);
CREATE INDEX notifications_pending_idx ON notifications (created_at) WHERE status <> 'sent';
