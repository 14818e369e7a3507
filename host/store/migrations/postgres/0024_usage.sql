-- What an operator bills on, per tenant and UTC day: orders synced to FreshBooks (an order counts once, on the day
-- its invoice was first written or confirmed) and the HTTP calls Ferry made to FreshBooks and to Kentico. Hosts only
-- ever add to a row (`n = n + excluded.n`), so several hosts sharing a database sum up; calls are buffered in memory
-- for a few seconds before they are added. `day` is `YYYY-MM-DD`, so rows sort and range-filter as text. Retention
-- never purges this table: it outlives the events it counts.
CREATE TABLE usage_daily (
    tenant           TEXT   NOT NULL,
    day              TEXT   NOT NULL,
    orders_synced    BIGINT NOT NULL DEFAULT 0,
    freshbooks_calls BIGINT NOT NULL DEFAULT 0,
    kentico_calls    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day)
);
CREATE INDEX usage_daily_by_day ON usage_daily (day);

-- Orders synced before this table existed, from the record the anomaly checks keep of every synced order.
INSERT INTO usage_daily (tenant, day, orders_synced)
SELECT tenant, to_char(to_timestamp(synced_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), COUNT(*)
FROM synced_orders GROUP BY 1, 2;
