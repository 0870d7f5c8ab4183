"""People who sign in: sign-in, invitations and profiles (`accounts`), and an office's team
(`team`). Tokens are verified in `mla_core.adapters.tokens`; the principal is `mla_core.core.principal`."""
