-- Schema version 4: runtime policies (immutable versions), AWS accounts, the function inventory with
-- each function's deployment, and the content-addressed layer versions the reconciler published.
CREATE TABLE IF NOT EXISTS policies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_ms BIGINT
);
CREATE TABLE IF NOT EXISTS policy_versions (
    policy_id TEXT NOT NULL REFERENCES policies (id),
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (policy_id, version)
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    regions TEXT NOT NULL,
    role_arn TEXT,
    external_id TEXT,
    group_id TEXT REFERENCES enforcer_groups (id),
    created_ms BIGINT NOT NULL,
    synced_ms BIGINT,
    sync_error TEXT
);
CREATE TABLE IF NOT EXISTS functions (
    arn TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    runtime TEXT,
    architecture TEXT NOT NULL,
    package_type TEXT NOT NULL,
    tags TEXT NOT NULL,
    layers TEXT NOT NULL,
    role TEXT,
    env_names TEXT NOT NULL,
    update_status TEXT,
    synced_ms BIGINT NOT NULL,
    policy_id TEXT,
    policy_version BIGINT,
    layer_arn TEXT,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    token_id TEXT,
    changed_ms BIGINT
);
CREATE INDEX IF NOT EXISTS functions_account ON functions (account_id, region, name);
CREATE TABLE IF NOT EXISTS layer_versions (
    content_key TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    layer_arn TEXT NOT NULL,
    architecture TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (content_key, account_id, region)
);
