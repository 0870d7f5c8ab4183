"""Complaints from the caller's words to closure.

- `intake`: a complaint taken by the agent or typed in by staff, made durable (Postgres, or the
  queue when Postgres is down) and confirmed by SMS; what a returning caller hears about theirs.
- `casework`: the office's work on them: find, read, change, note.
- `lifecycle`: which status may follow which.
- `sms`: the constituent's SMS, on DLT templates in their language, and their retries.
"""
