"""People who sign in: sign-in, accepting an invitation, profiles and the office-membership check
(`accounts`), an office's team (`team`), and the link an invitation email carries (`invitations`).
Tokens are verified in `mla_core.adapters.tokens`; the principal is `mla_core.core.principal`."""
