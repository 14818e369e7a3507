-- Tenants managed through the admin API (SaaS mode), next to the ones in the config file.
-- `config` is the tenant's configuration as JSON with every secret taken out; `sealed_secrets` holds those secrets
-- as one AEAD blob sealed by the host keyring (key id ‖ nonce ‖ ciphertext), so the database never has them in
-- plaintext.
CREATE TABLE tenant_configs (
    id             TEXT   NOT NULL PRIMARY KEY,
    config         TEXT   NOT NULL,
    sealed_secrets BLOB  NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
