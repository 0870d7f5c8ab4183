"""An office's voice agents (not the worker program that runs them: that is `agent_pool/`).

- `config`: what one agent needs to answer a call (greeting, languages, voices, categories, SMS).
- `manage`: the agents as an MLA admin changes them (name, greeting, numbers, paused or active).
- `routing`: which tenant and agent a call is for, the config read from Redis or Postgres, and the
  SIP dispatch rule that brings the office's numbers to LiveKit.
- `browser_calls`: a test call with an agent from the dashboard.
"""
