-- Schema version 9 (PostgreSQL only): a trigram index for free-text search (`q`), so that a rare
-- string is found through the index instead of a scan of every event. pg_trgm ships with PostgreSQL
-- (Debian's postgresql-15 package) and is a trusted extension: the owner of the database may create
-- it. Where it cannot be created, the migration still succeeds and `q` scans, as on SQLite.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): free-text search scans the events', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX IF NOT EXISTS events_search_trgm ON events USING gin (search gin_trgm_ops)';
    END IF;
END
$$;
