-- Fixed-window rate counters shared by every worker (and, on Postgres, every host): one row per key.
CREATE TABLE rate_slots (
    key          TEXT   NOT NULL PRIMARY KEY,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL
);
