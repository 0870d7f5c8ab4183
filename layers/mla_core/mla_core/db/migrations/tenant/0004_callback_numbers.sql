-- A hidden caller's callback number, kept apart from the number a call came from. `caller_number`
-- says whose complaint it is (a status question or the open complaints read out at call start
-- match it); `callback_number` is only where a hidden caller asked for the SMS to go, unverified,
-- so it never makes the complaint readable on that number's own calls.
ALTER TABLE complaints ADD COLUMN callback_number text;

-- Complaints logged by hidden callers before this column stored the callback number as the
-- caller's: the call they came on has no caller number. They move to the callback column, which
-- only makes them less readable (a mistaken move costs a status answer, never a leak).
UPDATE complaints x SET callback_number = x.caller_number, caller_number = NULL
  FROM calls c
 WHERE c.room_name = x.room_name AND c.caller_number IS NULL AND x.caller_number IS NOT NULL AND x.channel = 'phone';
