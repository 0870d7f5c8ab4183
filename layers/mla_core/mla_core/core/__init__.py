"""What everything else builds on, with no I/O of its own: settings, typed errors, the principal (who
is calling), the names derived from a tenant id, languages, shared field types, keyset cursors,
masking of personal data, and structured logs."""
