"""Complaints from the caller's words to closure.

- `models`: every shape a complaint takes (field limits, the stored and queued complaint, the
  office's filters and changes, what the functions return), declared once.
- `lifecycle`: which status may follow which.
- `intake`: a complaint taken by the agent or typed in by staff, made durable (Postgres, or the
  queue when Postgres is down) and confirmed by SMS; what a returning caller hears about theirs.
- `search`: the office's list: filters, full-text search, keyset pages. `export`: the list as CSV.
- `casework`: the office's work on one complaint: read, change, note, log by hand.
- `changes`: the rules of a change, planned before it is written (`plan_change`).
- `stats`: the overview's counts, overdue trend and time to resolve.
- `sms`: the constituent's SMS, on DLT templates in their language, and their retries.
- `store`: every query on the tenant's complaint tables.
"""
