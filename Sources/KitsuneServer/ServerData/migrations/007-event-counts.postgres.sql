-- Schema version 7 (PostgreSQL): hourly roll-ups of the events (see the SQLite file for the model).
-- Statement-level triggers read the statement's transition table, so a batch of 100 events costs one
-- aggregated upsert, not 100. Each backend writes its own `shard` (pg_backend_pid()): concurrent
-- ingest transactions never wait on, or deadlock over, each other's counter rows; readers sum the
-- shards. Retention's deletes add negative counts in the deleting backend's shard.
CREATE TABLE IF NOT EXISTS event_counts (
    bucket BIGINT NOT NULL,
    function_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    action TEXT NOT NULL,
    mode TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    group_id TEXT NOT NULL,
    shard BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (bucket, function_name, reason, action, mode, account_id, region, group_id, shard)
);
CREATE OR REPLACE FUNCTION kitsune_count_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO event_counts (bucket, function_name, reason, action, mode, account_id, region, group_id, shard, n)
        SELECT (CASE WHEN time_ms >= 0 THEN time_ms / 3600000 ELSE (time_ms - 3599999) / 3600000 END),
               COALESCE(function_name, ''), COALESCE(reason, ''), action, COALESCE(mode, ''), COALESCE(account_id, ''),
               COALESCE(region, ''), group_id, pg_backend_pid(), COUNT(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (bucket, function_name, reason, action, mode, account_id, region, group_id, shard)
        DO UPDATE SET n = event_counts.n + excluded.n;
    ELSE
        INSERT INTO event_counts (bucket, function_name, reason, action, mode, account_id, region, group_id, shard, n)
        SELECT (CASE WHEN time_ms >= 0 THEN time_ms / 3600000 ELSE (time_ms - 3599999) / 3600000 END),
               COALESCE(function_name, ''), COALESCE(reason, ''), action, COALESCE(mode, ''), COALESCE(account_id, ''),
               COALESCE(region, ''), group_id, pg_backend_pid(), -COUNT(*)
        FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (bucket, function_name, reason, action, mode, account_id, region, group_id, shard)
        DO UPDATE SET n = event_counts.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS events_count_insert ON events;
CREATE TRIGGER events_count_insert AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kitsune_count_events();
DROP TRIGGER IF EXISTS events_count_delete ON events;
CREATE TRIGGER events_count_delete AFTER DELETE ON events REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kitsune_count_events();
