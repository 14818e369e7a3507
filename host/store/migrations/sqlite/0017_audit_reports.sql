-- Books audits (issue 21): one row per audit of a tenant, with its window and counts for listing, and the whole
-- report (every difference with both sides' values) as JSON for showing and repairing.
CREATE TABLE audit_reports (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant           TEXT    NOT NULL,
    -- Orders changed in Kentico from this moment (ms since the epoch) were checked.
    since            BIGINT  NOT NULL,
    started_at       BIGINT  NOT NULL,
    finished_at      BIGINT  NOT NULL,
    orders_checked   BIGINT  NOT NULL,
    differences      BIGINT  NOT NULL,
    freshbooks_calls BIGINT  NOT NULL,
    report           TEXT    NOT NULL,
    -- When a repair of this report's repairable differences ran (NULL: never), so it runs once.
    repaired_at      BIGINT
);
CREATE INDEX audit_reports_by_tenant ON audit_reports (tenant, id);
