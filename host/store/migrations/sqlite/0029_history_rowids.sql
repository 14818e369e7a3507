-- Fewer pages written per order (issue 20: every page a transaction changes is one WAL frame, written and flushed).
--
-- An event's history and steps are numbered by their rowid without AUTOINCREMENT: a new row still numbers after
-- every row there is (SQLite takes the largest rowid plus one), which is all the order of an event's rows needs,
-- and a claim or an answer no longer rewrites the sqlite_sequence page.
CREATE TABLE event_history_rows (
    id         INTEGER PRIMARY KEY,
    event_seq  BIGINT  NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    at         BIGINT  NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    attempt    INTEGER NOT NULL,
    error      TEXT,
    note       TEXT
);
INSERT INTO event_history_rows (id, event_seq, at, from_state, to_state, attempt, error, note)
    SELECT id, event_seq, at, from_state, to_state, attempt, error, note FROM event_history;
DROP TABLE event_history;
ALTER TABLE event_history_rows RENAME TO event_history;
CREATE INDEX event_history_by_event ON event_history (event_seq, id);

CREATE TABLE event_steps_rows (
    id          INTEGER PRIMARY KEY,
    event_seq   BIGINT  NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    step        TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    duration_ms BIGINT  NOT NULL,
    ok          INTEGER NOT NULL,
    detail      TEXT
);
INSERT INTO event_steps_rows (id, event_seq, attempt, step, started_at, duration_ms, ok, detail)
    SELECT id, event_seq, attempt, step, started_at, duration_ms, ok, detail FROM event_steps;
DROP TABLE event_steps;
ALTER TABLE event_steps_rows RENAME TO event_steps;
CREATE INDEX event_steps_by_event ON event_steps (event_seq, id);
