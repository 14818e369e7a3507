-- The open events of each tenant in seq order (see the SQLite copy). Without it Postgres walked the primary
-- key in seq order and filtered out every finished event: 17 ms per claim with 18,000 done events, 0.4 ms
-- with it.
CREATE INDEX events_ready ON events (tenant, seq) WHERE state IN ('queued', 'retrying', 'running');
