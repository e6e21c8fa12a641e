-- Schema version 5: alerts. Destinations (with their route, `match`), the durable outbox of alerts,
-- the evaluator's cursor over the events table and the event ids it has already evaluated.
CREATE TABLE IF NOT EXISTS alert_destinations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    secret TEXT,
    match TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    destination_id TEXT NOT NULL REFERENCES alert_destinations (id) ON DELETE CASCADE,
    throttle_key TEXT NOT NULL,
    group_key TEXT NOT NULL,
    follow_up BIGINT NOT NULL,
    window_end_ms BIGINT NOT NULL,
    first_event_id BIGINT NOT NULL,
    last_event_id BIGINT NOT NULL,
    count BIGINT NOT NULL,
    severity TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    function_name TEXT,
    account_id TEXT,
    region TEXT,
    detail TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    last_error TEXT,
    delivered_ms BIGINT
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_throttle ON alerts (throttle_key);
CREATE INDEX IF NOT EXISTS alerts_due ON alerts (state, next_attempt_ms);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (window_end_ms);
CREATE INDEX IF NOT EXISTS alerts_destination ON alerts (destination_id, created_ms);
CREATE TABLE IF NOT EXISTS alert_cursor (
    name TEXT PRIMARY KEY,
    last_event_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_seen_events (
    event_id BIGINT PRIMARY KEY
);
