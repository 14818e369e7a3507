-- Ferry store schema (SQLite). Times are Unix milliseconds (BIGINT on Postgres), JSON is TEXT,
-- opaque secrets are BLOB (BYTEA on Postgres). Keep statements portable: the Postgres copy differs only
-- in the seq column type and BLOB -> BYTEA.

-- One row per accepted webhook event; (tenant, event_id) is the dedupe key.
CREATE TABLE events (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant               TEXT    NOT NULL,
    event_id             TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    ordering_key         TEXT    NOT NULL,
    object_type          TEXT    NOT NULL,
    object_id            BIGINT  NOT NULL,
    object_guid          TEXT    NOT NULL,
    object_last_modified BIGINT  NOT NULL,
    payload              TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      BIGINT  NOT NULL,
    lease_owner          TEXT,
    lease_expires_at     BIGINT,
    last_error           TEXT,
    outcome              TEXT,
    order_number         TEXT,
    invoice_id           TEXT,
    received_at          BIGINT  NOT NULL,
    queued_at            BIGINT  NOT NULL,
    started_at           BIGINT,
    finished_at          BIGINT,
    updated_at           BIGINT  NOT NULL,
    UNIQUE (tenant, event_id)
);
-- Few indexes on purpose: every index is another random B-tree write per ingested event.
-- by_key serves per-object ordering and the poller's coverage check (ordering_key = object_type:id);
-- by_state serves claims (ready tenants, running counts per tenant).
CREATE INDEX events_by_key   ON events (tenant, ordering_key, seq);
CREATE INDEX events_by_state ON events (state, tenant, next_attempt_at);
CREATE INDEX events_by_order_number ON events (tenant, order_number) WHERE order_number IS NOT NULL;
CREATE INDEX events_by_invoice ON events (tenant, invoice_id) WHERE invoice_id IS NOT NULL;

-- Every state change and attempt, kept so the dead-letter view shows each attempt's error.
CREATE TABLE event_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq  BIGINT  NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    at         BIGINT  NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    attempt    INTEGER NOT NULL,
    error      TEXT,
    note       TEXT
);
CREATE INDEX event_history_by_event ON event_history (event_seq, id);

-- Per-step timings of a run (extract, transform, load...), with whatever ids the step produced.
CREATE TABLE event_steps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq   BIGINT  NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    step        TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    duration_ms BIGINT  NOT NULL,
    ok          INTEGER NOT NULL,
    detail      TEXT
);
CREATE INDEX event_steps_by_event ON event_steps (event_seq, id);

-- Intent recorded before each external call, result after: the exactly-once-effect ledger.
CREATE TABLE idempotency (
    tenant       TEXT   NOT NULL,
    key          TEXT   NOT NULL,
    state        TEXT   NOT NULL,
    external_id  TEXT,
    payload_hash TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, key)
);

-- Kentico key -> FreshBooks id, per tenant and kind (client, item, tax, invoice, payment).
CREATE TABLE id_mappings (
    tenant        TEXT   NOT NULL,
    kind          TEXT   NOT NULL,
    kentico_key   TEXT   NOT NULL,
    freshbooks_id TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, kind, kentico_key)
);

-- How far the reconciliation poller has read, per tenant and object type.
CREATE TABLE watermarks (
    tenant        TEXT   NOT NULL,
    object_type   TEXT   NOT NULL,
    last_modified BIGINT NOT NULL,
    last_id       BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, object_type)
);

-- OAuth tokens per tenant account; the caller encrypts, the store keeps opaque bytes.
CREATE TABLE oauth_tokens (
    tenant        TEXT   NOT NULL,
    account       TEXT   NOT NULL,
    access_token  BLOB   NOT NULL,
    refresh_token BLOB   NOT NULL,
    expires_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, account)
);

-- Refresh tokens already rotated away: a second use is a bug or a replay, and is refused.
CREATE TABLE oauth_used_refresh (
    tenant        TEXT   NOT NULL,
    account       TEXT   NOT NULL,
    refresh_token BLOB   NOT NULL,
    used_at       BIGINT NOT NULL
);
CREATE INDEX oauth_used_refresh_by_account ON oauth_used_refresh (tenant, account);

-- Everything else: tenant config json, encrypted secret blobs.
CREATE TABLE kv (
    namespace  TEXT   NOT NULL,
    key        TEXT   NOT NULL,
    value      BLOB   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, key)
);
