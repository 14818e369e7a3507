-- Claims walk a tenant's ready events in seq order per state (same index as the SQLite schema).
CREATE INDEX events_ready ON events (tenant, state, seq);
