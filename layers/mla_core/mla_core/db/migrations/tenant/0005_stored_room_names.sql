-- Call rooms named without the caller's number (control migration 0007 has the transform,
-- platform.stored_room_name): the calls, the complaints taken on them, the `created` events the agent
-- wrote for those (its actor is the room) and the agent's idempotency keys, `<room>:<tool>:<digest>`
-- (agent_pool/agent.py idempotency_key). A call whose webhooks arrived after the new code already
-- has a row under the stored name beside the agent's old one: the two are merged first, as the
-- agent's record and the webhooks' merge (the earliest start, the latest end, the first number known).
-- Runs with search_path = tenant_<id>.

CREATE TEMPORARY TABLE stored_rooms ON COMMIT DROP AS  -- the calls to rename: id, raw name, stored name
SELECT id, room_name AS raw, platform.stored_room_name(room_name) AS stored
  FROM calls WHERE room_name ~ '^mla-[a-z0-9]{10}-call_';

UPDATE calls s SET
    caller_number    = COALESCE(s.caller_number, r.caller_number),
    dialed_number    = COALESCE(s.dialed_number, r.dialed_number),
    language         = COALESCE(r.language, s.language),
    status           = CASE WHEN r.outcome IS NOT NULL OR s.status = 'in_progress' THEN r.status ELSE s.status END,
    outcome          = COALESCE(r.outcome, s.outcome),
    started_at       = LEAST(s.started_at, r.started_at),
    answered_at      = LEAST(s.answered_at, r.answered_at),
    ended_at         = GREATEST(s.ended_at, r.ended_at),
    duration_seconds = COALESCE(GREATEST(0, floor(extract(epoch FROM
                       GREATEST(s.ended_at, r.ended_at) - LEAST(s.started_at, r.started_at))))::integer,
                       s.duration_seconds, r.duration_seconds),
    end_reason       = COALESCE(s.end_reason, r.end_reason),
    notice_played_at = COALESCE(s.notice_played_at, r.notice_played_at),
    transcript       = CASE WHEN r.transcript <> '[]'::jsonb THEN r.transcript ELSE s.transcript END,
    latency          = CASE WHEN r.latency <> '{}'::jsonb THEN r.latency ELSE s.latency END,
    recording_url    = LEAST(s.recording_url, r.recording_url),
    last_event_at    = GREATEST(s.last_event_at, r.last_event_at),
    updated_at       = now()
  FROM stored_rooms m JOIN calls r ON r.id = m.id
 WHERE s.room_name = m.stored;

UPDATE complaints x SET call_id = s.id
  FROM stored_rooms m JOIN calls s ON s.room_name = m.stored
 WHERE x.call_id = m.id;

DELETE FROM calls c USING stored_rooms m
 WHERE c.id = m.id AND EXISTS (SELECT FROM calls s WHERE s.room_name = m.stored);

UPDATE calls c SET room_name = m.stored FROM stored_rooms m WHERE c.id = m.id;

UPDATE complaints SET room_name = platform.stored_room_name(room_name)
 WHERE room_name ~ '^mla-[a-z0-9]{10}-call_';

UPDATE complaint_events SET actor_id = platform.stored_room_name(actor_id)
 WHERE actor_type = 'agent' AND actor_id ~ '^mla-[a-z0-9]{10}-call_';

UPDATE complaints
   SET idempotency_key = platform.stored_room_name(split_part(idempotency_key, ':', 1))
                         || substr(idempotency_key, length(split_part(idempotency_key, ':', 1)) + 1)
 WHERE idempotency_key ~ '^mla-[a-z0-9]{10}-call_';

DROP TABLE stored_rooms;
