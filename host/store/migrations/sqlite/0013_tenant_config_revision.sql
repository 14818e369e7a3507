-- Hosts sharing a database notice each other's tenant changes by comparing (created_at, revision) with what they
-- serve; every replace bumps the revision, so two replaces within one millisecond still count as two changes.
ALTER TABLE tenant_configs ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
