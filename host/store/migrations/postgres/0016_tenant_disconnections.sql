-- Tenants whose FreshBooks authorization was refused for good (the token endpoint answered invalid_client or
-- invalid_grant, or the API answered 401 right after a refresh): one row per disconnected tenant. The claim skips
-- their events, which wait instead of being dead-lettered one refused token request at a time. The row goes when
-- new tokens are stored (`ferry connect`), a refresh succeeds, or the tenant is built from other app credentials.
CREATE TABLE tenant_disconnections (
    tenant      TEXT   NOT NULL PRIMARY KEY,
    -- The FreshBooks account whose authorization was refused.
    account     TEXT   NOT NULL,
    -- A digest of the app credentials that were refused (never the secret itself): another one reconnects.
    credentials TEXT   NOT NULL,
    -- What FreshBooks answered, for the operator.
    reason      TEXT   NOT NULL,
    since       BIGINT NOT NULL
);
