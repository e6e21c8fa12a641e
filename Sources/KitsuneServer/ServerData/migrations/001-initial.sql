-- Kitsune control plane, schema version 1: enforcer groups, tokens, events, the fleet, leases, audit.
-- One file for both stores: {{ID}} is the auto-increment key of the dialect. Statements end with ';'
-- at the end of a line.
CREATE TABLE IF NOT EXISTS enforcer_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    group_id TEXT REFERENCES enforcer_groups (id) ON DELETE CASCADE,
    functions TEXT,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_ms BIGINT
);
CREATE INDEX IF NOT EXISTS tokens_group ON tokens (group_id);
CREATE TABLE IF NOT EXISTS events (
    id {{ID}},
    group_id TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    mode TEXT,
    function_name TEXT,
    account_id TEXT,
    region TEXT,
    request_id TEXT,
    instance_id TEXT,
    seq BIGINT,
    executable TEXT,
    search TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events (dedup_key);
CREATE INDEX IF NOT EXISTS events_time ON events (time_ms, id);
CREATE INDEX IF NOT EXISTS events_function_time ON events (function_name, time_ms, id);
CREATE INDEX IF NOT EXISTS events_reason_time ON events (reason, time_ms, id);
CREATE INDEX IF NOT EXISTS events_request ON events (request_id);
CREATE TABLE IF NOT EXISTS enforcer_instances (
    instance_key TEXT PRIMARY KEY,
    instance_id TEXT,
    group_id TEXT NOT NULL,
    function_name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    version TEXT,
    mode TEXT,
    facts TEXT,
    started_ms BIGINT,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    events BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS enforcer_instances_function ON enforcer_instances (function_name, account_id, region);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    id {{ID}},
    time_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log (time_ms, id);
