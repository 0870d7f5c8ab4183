"""Caller memory (Mem0's data model and API on the office's own Postgres): `memories` for the office and
the agent, `jobs` and `extraction` for what a call or `infer: true` leaves to the background."""
