"""MLA Voice AI's shared library: the Lambda layer every function carries, and the agent worker's domain.

The folders are the architecture (`docs/ARCHITECTURE.md`); each one's docstring says what it owns.
Imports point down this list, never up (`make lint` checks it):

- entry points, outside the library (`functions/`, `agent_pool/`) and `cli` (operator commands);
- `web` (server-rendered pages) and `http` (the JSON edge: envelope, dependencies);
- features, each over its own tables: `provisioning` above `identity`, `complaints` and `calls`,
  above `agents`, above `tenants`;
- `adapters` (every vendor SDK that talks to a service, and the `Services` that hold them) and `db`;
- `core` (settings, errors, the principal, names, languages, field types, cursors, privacy, logs).
"""
