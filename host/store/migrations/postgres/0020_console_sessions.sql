-- Signed-in web console sessions (`/console`). The cookie holds a random session id; only its SHA-256 is kept, so
-- a reader of the database cannot take over a session. A session speaks for one admin token: revoking the token
-- ends its sessions at once (the lookup joins the live token). `csrf` is the form token every console POST must
-- echo (synchronizer pattern). Expired rows are deleted when a new session is made.
CREATE TABLE console_sessions (
    id_hash    TEXT   NOT NULL PRIMARY KEY,
    token_id   TEXT   NOT NULL REFERENCES admin_tokens (id) ON DELETE CASCADE,
    csrf       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
