-- Schema version 6: dashboard sessions. A browser exchanges an API token for a session cookie; only
-- the SHA-256 of the session id is kept (a copy of this table logs nobody in). The session acts with
-- its token's role for as long as that token is live; revoking the token ends its sessions.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_ms);
