-- The time (ms since the epoch) a completed order run read its order as it stood at (the order's
-- OrderLastModified). An event of the same order announcing a change up to then is answered by that run without
-- reading Kentico again (issue 20: a checkout's paid webhook that arrives after the created one was synced).
ALTER TABLE events ADD COLUMN read_as_of BIGINT;
