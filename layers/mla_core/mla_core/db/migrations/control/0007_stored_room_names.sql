-- Call rooms named without the caller's number. LiveKit names a SIP call's room
-- `mla-<tenant>-call_<caller's number>_<random>`; we now store and log it as `mla_core.core.names.stored_room_name`
-- makes it: what follows the prefix becomes 20 hex digits of the SHA-256 of the whole name. This is that
-- function's SQL twin (tests/integration/test_stored_room_names.py holds them to the same samples), for the rows
-- stored before: here the webhook records, and each tenant's calls and complaints (tenant migration 0005).
-- Runs with search_path = platform.

CREATE OR REPLACE FUNCTION platform.stored_room_name(room text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN room ~ '^mla-[a-z0-9]{10}-call_'
                THEN substr(room, 1, 19) || '-' || left(encode(sha256(convert_to(room, 'UTF8')), 'hex'), 20)
                ELSE room END;

UPDATE platform.webhook_events SET room_name = platform.stored_room_name(room_name)
 WHERE room_name ~ '^mla-[a-z0-9]{10}-call_';
