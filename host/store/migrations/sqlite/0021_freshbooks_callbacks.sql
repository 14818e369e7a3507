-- FreshBooks callbacks (webhooks) Ferry registered for a tenant's account, one row per callback. `verifier` is the
-- code FreshBooks sent in the verification handshake, sealed by the host keyring (it is the key deliveries are
-- signed with); NULL until the handshake arrived. `verified_at` is set once FreshBooks accepted the verifier.
CREATE TABLE freshbooks_callbacks (
    tenant      TEXT   NOT NULL,
    callback_id BIGINT NOT NULL,
    account     TEXT   NOT NULL,
    event       TEXT   NOT NULL,
    uri         TEXT   NOT NULL,
    verifier    BLOB,
    verified_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, callback_id)
);

-- The payment write-back finds the Kentico order of an invoice (and tells Ferry's own payments from others) by
-- the FreshBooks id the idempotency ledger recorded.
CREATE INDEX idempotency_by_external_id ON idempotency (tenant, external_id) WHERE external_id IS NOT NULL;
