-- The class of the error that dead-lettered an event (validation, plugin, authorization, rate_limit, upstream,
-- not_found, conflict, review, internal; ferry_model::ErrorClass), set with the dead letter and cleared by a replay.
-- The dead-letter lists filter on it, and the alerts count by it.
ALTER TABLE events ADD COLUMN error_class TEXT;

-- Dead letters from before the column: classed from the message the worker stored, which each stage's error
-- spells in a fixed shape (guess: one that matches none of them was a 4xx FreshBooks or Kentico rejected, the
-- most common remaining cause, so validation).
UPDATE events SET error_class = CASE
    WHEN last_error LIKE '%held for review%' OR last_error LIKE '%review it%'
        OR last_error LIKE '%review the change%' THEN 'review'
    WHEN last_error LIKE 'run % of plugin %' OR last_error LIKE 'load plugin %' THEN 'plugin'
    WHEN last_error LIKE '% is invalid: %' THEN 'validation'
    WHEN last_error LIKE '%(429)%' OR last_error LIKE '%rejected 429%' THEN 'rate_limit'
    WHEN last_error LIKE '%(401)%' OR last_error LIKE '%rejected 401%' OR last_error LIKE '%rejected 403%'
        OR last_error LIKE '%not connected%' OR last_error LIKE '%was revoked%' THEN 'authorization'
    WHEN last_error LIKE '%not found%' OR last_error LIKE '%rejected 404%'
        OR last_error LIKE '%no % rate on or before%' THEN 'not_found'
    WHEN last_error LIKE '%conflict 4%' OR last_error LIKE '%rejected 409%' THEN 'conflict'
    WHEN last_error LIKE 'gave up after %' THEN 'upstream'
    WHEN last_error LIKE 'tenant % is not configured' OR last_error LIKE 'stored event is unreadable%' THEN 'internal'
    ELSE 'validation'
END
WHERE state IN ('dead', 'discarded');

-- The dead-letter lists filter by state and class.
CREATE INDEX events_dead_by_class ON events (tenant, error_class) WHERE state = 'dead';
