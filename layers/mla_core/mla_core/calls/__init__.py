"""Call records: one row per LiveKit call room, written by the agent after the call (`records`) and by
LiveKit's webhook events (`webhook_events`), which converge on the same row in any order."""
