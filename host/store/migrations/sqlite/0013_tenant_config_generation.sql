-- Hosts sharing a database notice each other's tenant changes by comparing each stored tenant's generation with
-- the one they serve. Every insert and replace draws a new random generation, so a replace, or a delete and
-- re-create, within the same millisecond still shows as a change.
ALTER TABLE tenant_configs ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
