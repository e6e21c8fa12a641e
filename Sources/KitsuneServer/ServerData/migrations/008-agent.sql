-- Schema version 8: accounts reconciled by an in-account agent (`kitsune agent`) instead of the server.
-- An agent-mode account's reconciler runs inside the account; the server never calls AWS for it.
ALTER TABLE accounts ADD COLUMN mode TEXT NOT NULL DEFAULT 'direct';
