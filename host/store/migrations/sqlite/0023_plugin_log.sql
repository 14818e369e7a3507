-- The tenants' plugin log (issue 17): what a tenant's plugins wrote (the `log` host call, stdout, stderr) while they
-- ran a stored event, so a tenant can read its own plugins' lines without the operator's host log. Bounded: each
-- write keeps only the newest lines of the tenants it wrote for (the host keeps 1,000 a tenant), so no timer is
-- needed. `job` is the event the line was written for; no foreign key, because retention purges finished events
-- while their lines may still be among the newest.
CREATE TABLE plugin_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant  TEXT    NOT NULL,
    plugin  TEXT    NOT NULL,
    -- The uploaded version that ran; NULL for a plugin of the tenant's configuration.
    version BIGINT,
    -- debug, info, warn or error.
    level   TEXT    NOT NULL,
    message TEXT    NOT NULL,
    job     BIGINT  NOT NULL,
    at      BIGINT  NOT NULL
);
CREATE INDEX plugin_log_by_tenant ON plugin_log (tenant, id);
CREATE INDEX plugin_log_by_plugin ON plugin_log (tenant, plugin, id);
