-- Each tenant's uploaded plugins in chain order, with the settings given to them through the admin API.
-- An upload of a new name appends it (one past the tenant's highest position); a new version of a known name keeps
-- its row and so its place. A plugin with no active version keeps its row too, so activating it again puts it back
-- where it was. settings is a JSON object of strings, or NULL while none were given (a plugin that takes the place
-- of a configured one then keeps the configured settings).
CREATE TABLE plugin_chain (
    tenant   TEXT   NOT NULL,
    name     TEXT   NOT NULL,
    position BIGINT NOT NULL,
    settings TEXT,
    PRIMARY KEY (tenant, name)
);

-- Names uploaded before this table existed ran in name order; they keep that order.
INSERT INTO plugin_chain (tenant, name, position)
SELECT tenant, name, ROW_NUMBER() OVER (PARTITION BY tenant ORDER BY name)
FROM (SELECT DISTINCT tenant, name FROM plugin_versions) AS uploaded;
