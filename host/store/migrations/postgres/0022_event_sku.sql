-- The SKU code a catalogue event (sku.created / sku.updated / sku.deleted) concerns, so the run history and the
-- admin API find a product's events by SKU as they find an order's by number. Set once the SKU is known (after
-- extract), so a failed event is findable too.
ALTER TABLE events ADD COLUMN sku TEXT;
CREATE INDEX events_by_sku ON events (tenant, sku) WHERE sku IS NOT NULL;
