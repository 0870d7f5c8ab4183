-- Call rooms named without the caller's number in the archives too: tenant migrations skip an archived
-- schema (`archived_tenant_<id>`, a deprovisioned office's data, kept until retention drops it), so the
-- rename tenant migration 0005 makes in every office's schema is made here in the archives, with the
-- same transform (`stored_room_name`, control migration 0007). An office archived since 0005 was
-- renamed before its archive; one archived before it had no webhook after, so no call has two rows
-- to merge. Runs with search_path = platform.

DO $$
DECLARE
    archive text;
    sip_room constant text := '^mla-[a-z0-9]{10}-call_';
BEGIN
    FOR archive IN
        SELECT t.archived_schema FROM tenants t JOIN pg_namespace n ON n.nspname = t.archived_schema
    LOOP
        EXECUTE format('UPDATE %I.calls SET room_name = platform.stored_room_name(room_name)'
                       ' WHERE room_name ~ %L', archive, sip_room);
        EXECUTE format('UPDATE %I.complaints SET room_name = platform.stored_room_name(room_name)'
                       ' WHERE room_name ~ %L', archive, sip_room);
        EXECUTE format('UPDATE %I.complaint_events SET actor_id = platform.stored_room_name(actor_id)'
                       ' WHERE actor_type = %L AND actor_id ~ %L', archive, 'agent', sip_room);
        EXECUTE format('UPDATE %I.complaints SET idempotency_key ='
                       ' platform.stored_room_name(split_part(idempotency_key, %L, 1))'
                       ' || substr(idempotency_key, length(split_part(idempotency_key, %L, 1)) + 1)'
                       ' WHERE idempotency_key ~ %L', archive, ':', ':', sip_room);
    END LOOP;
END $$;
