-- Schema version 13 (PostgreSQL only): free text (`q`) through trigram codes the server computes,
-- stored with each event, leaving out the stop codes (trigrams already in 5% or more of the newest
-- events: see `PostgresSearchPlan`). pg_trgm's index of migration 9 put every trigram of every event
-- into GIN inside the ingest transaction: at 10 000 events/s it took PostgreSQL from 0.55 to 1.04 of
-- this machine's two cores, and batch p99 from 25-42 ms to 125-184 ms (alternated 10-second runs on one
-- cluster). Events stored before this migration have no codes: queries read them as candidates
-- (the partial index) until the search indexer has given them theirs.
ALTER TABLE events ADD COLUMN IF NOT EXISTS search_codes INT[];
CREATE TABLE IF NOT EXISTS search_stop_codes (
    code INT PRIMARY KEY,
    added_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_search_codes ON events USING gin (search_codes) WITH (gin_pending_list_limit = 65536);
CREATE INDEX IF NOT EXISTS events_search_uncoded ON events (id) WHERE search_codes IS NULL;
DROP INDEX IF EXISTS events_search_trgm;
