-- What the anomaly checks compare a new order with: one row per order synced to FreshBooks (an edit updates it),
-- with the figures the checks use. The total is the decimal as text, so it reads back exactly.
CREATE TABLE synced_orders (
    tenant       TEXT    NOT NULL,
    order_guid   TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    total        TEXT    NOT NULL,
    max_quantity BIGINT  NOT NULL,
    customer     TEXT    NOT NULL,
    country      TEXT    NOT NULL,
    synced_at    BIGINT  NOT NULL,
    PRIMARY KEY (tenant, order_guid)
);
CREATE INDEX synced_orders_by_currency ON synced_orders (tenant, currency, synced_at);
CREATE INDEX synced_orders_by_time     ON synced_orders (tenant, synced_at);
CREATE INDEX synced_orders_by_customer ON synced_orders (tenant, customer);

-- Events the anomaly checks held for review. A replay of the event's dead letter releases it (released_at), and a
-- released event runs without the checks: a replay is the only way past a hold.
CREATE TABLE anomaly_holds (
    event_seq   BIGINT  NOT NULL PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    held_at     BIGINT  NOT NULL,
    released_at BIGINT
);
