-- A caller's "forget me" (caller memory, issue 18): said on a call, the agent deletes what caller memory
-- holds of their number at once and records the request here, for the office to erase the rest of their
-- data (complaints, calls: mla_core.privacy) and mark it handled. Keyed by the number the call came from,
-- never by a callback number a hidden caller said. A call records one request however often the caller
-- asks (`call_id`, the call's stored room name, is unique). Runs with search_path = tenant_<id>.
CREATE TABLE erasure_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    caller_phone text NOT NULL,
    call_id text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    handled_at timestamptz
);
-- The office's privacy page: the requests still to act on, newest first.
CREATE INDEX erasure_requests_open_idx ON erasure_requests (created_at DESC, id DESC) WHERE handled_at IS NULL;
-- A constituent's export and erasure, by their number.
CREATE INDEX erasure_requests_phone_idx ON erasure_requests (caller_phone);
