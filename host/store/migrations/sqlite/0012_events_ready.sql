-- The open events of each tenant in seq order. A claim walks this index and stops at the first runnable
-- event; before it, SQLite read every event of the tenant, done ones included, on each claim, so a claim
-- cost grew with the run history (2,000 orders in a run: 11 orders/s). Partial, so finished events leave it
-- and it stays as small as the backlog. `ready_at!` repeats the predicate so the planner may use it.
CREATE INDEX events_ready ON events (tenant, seq) WHERE state IN ('queued', 'retrying', 'running');
