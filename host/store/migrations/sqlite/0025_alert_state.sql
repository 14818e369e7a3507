-- What the alerts have told people, shared by every host on the database, so that a condition several hosts see (a
-- FreshBooks outage each host's breaker notices) sends one message when it starts and one when it clears, and a
-- burst of dead letters dead-lettered by several hosts is one message per window.

-- One row per condition ever raised: `tenant` is '' for the host's own. A host sends the raise only when its
-- compare-and-set flips `raised` from false (or inserts the row), and the recovery only when its compare-and-set
-- flips it back; `notified` says whether the raise went out (a recovery follows only one that did).
CREATE TABLE alert_conditions (
    tenant     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    raised     BOOLEAN NOT NULL,
    notified   BOOLEAN NOT NULL DEFAULT FALSE,
    changed_ms BIGINT  NOT NULL,
    PRIMARY KEY (tenant, name)
);

-- A tenant's open dead-letter window: opened by the first dead letter after the last batch, due `window_secs` later.
-- The host whose delete removes the row sends the batch, with the counts it deletes from the table below.
CREATE TABLE alert_dead_letter_windows (
    tenant TEXT   NOT NULL PRIMARY KEY,
    due_ms BIGINT NOT NULL
);

-- New dead letters per tenant and error class since the last batch, added to by every host.
CREATE TABLE alert_dead_letter_counts (
    tenant TEXT   NOT NULL,
    class  TEXT   NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (tenant, class)
);
