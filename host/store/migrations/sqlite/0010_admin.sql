-- Admin API: bearer tokens (hashed), uploaded plugin components (by content hash) and their versions per tenant.
-- Numbered 0010 to leave room for pipeline migrations in between; sqlx applies any version not yet applied.

-- Only the SHA-256 of a token is kept; the token itself is shown once, when created.
CREATE TABLE admin_tokens (
    id         TEXT   NOT NULL PRIMARY KEY,
    token_hash TEXT   NOT NULL UNIQUE,
    scope      TEXT   NOT NULL,
    tenant     TEXT,
    label      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Component bytes, stored once whichever tenants upload them.
CREATE TABLE plugin_blobs (
    hash       TEXT   NOT NULL PRIMARY KEY,
    bytes      BLOB   NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Versions of a tenant's named plugin; at most one active per (tenant, name).
CREATE TABLE plugin_versions (
    tenant       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    hash         TEXT    NOT NULL REFERENCES plugin_blobs (hash),
    size         BIGINT  NOT NULL,
    uploaded_at  BIGINT  NOT NULL,
    active       BOOLEAN NOT NULL,
    activated_at BIGINT,
    PRIMARY KEY (tenant, name, version)
);
