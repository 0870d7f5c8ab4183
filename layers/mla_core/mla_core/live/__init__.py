"""Live updates: what changes for an office reaches its open pages without a reload.

Everything that changes what an office sees publishes an event to the office's feed (`events.publish`):
a complaint created or changed, a call starting or ending, a complaint past its SLA (`sla.watch`). An
event is small: a per-feed id that only grows, a type and ids, never personal data; the page asks the
dashboard for the fragments it shows. Events are posted to every WebSocket connection of the feed
through API Gateway's Management API and kept for a while in Redis, so a page that reconnects asks for
what it missed (`events.catch_up`).

A page connects with a one-minute, single-use ticket (`tickets`), minted for its signed-in user;
`connections` is what the WebSocket API's `$connect`, `$disconnect` and `$default` routes run.
Live updates never stand in the way of the work: a publish that cannot reach Redis or API Gateway is
logged and dropped (the database stays the truth, and a page that missed events reloads its view).
"""
