-- One row per OAuth `state` a "Connect FreshBooks" flow has redeemed. The state itself is sealed by the host and
-- carries its tenant and expiry, so nothing is written when a flow starts; the row only makes each state single-use
-- (a second redemption of the same nonce finds it and is refused). Rows past their expiry are purged on redemption.
CREATE TABLE oauth_states_used (
    nonce      TEXT   NOT NULL PRIMARY KEY,
    tenant     TEXT   NOT NULL,
    -- When the state stopped being valid anyway (milliseconds); after that the row is useless and is purged.
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL
);
CREATE INDEX oauth_states_used_expiry ON oauth_states_used (expires_at);
