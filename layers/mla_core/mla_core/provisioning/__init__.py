"""A tenant's life, orchestrated across every other feature: requested, inspected, retried and taken
down through the admin API (`operations`), provisioned by the Step Functions workflow's idempotent
steps with their compensation (`workflow`), deprovisioned (`deprovision`), welcomed by email
(`welcome`)."""
