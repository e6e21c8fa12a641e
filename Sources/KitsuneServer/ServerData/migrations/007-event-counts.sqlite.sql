-- Schema version 7 (SQLite): hourly roll-ups of the events, so that stats cost what the hours and the
-- distinct (function, reason, …) combinations cost, not what the rows cost. One row per hour bucket
-- (floor(time_ms / 3600000)) and combination; NULL columns are stored as '' (a unique key treats NULLs
-- as distinct). Triggers keep it exact: +1 for each event stored (a duplicate refused by ON CONFLICT
-- fires nothing), -1 for each one retention deletes. `shard` is always 0 here (one writer); PostgreSQL
-- uses it to keep concurrent writers off each other's rows.
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
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS events_count_insert AFTER INSERT ON events BEGIN
    INSERT INTO event_counts (bucket, function_name, reason, action, mode, account_id, region, group_id, shard, n)
    VALUES ((CASE WHEN NEW.time_ms >= 0 THEN NEW.time_ms / 3600000 ELSE (NEW.time_ms - 3599999) / 3600000 END),
            COALESCE(NEW.function_name, ''), COALESCE(NEW.reason, ''), NEW.action, COALESCE(NEW.mode, ''),
            COALESCE(NEW.account_id, ''), COALESCE(NEW.region, ''), NEW.group_id, 0, 1)
    ON CONFLICT (bucket, function_name, reason, action, mode, account_id, region, group_id, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS events_count_delete AFTER DELETE ON events BEGIN
    UPDATE event_counts SET n = n - 1
    WHERE bucket = (CASE WHEN OLD.time_ms >= 0 THEN OLD.time_ms / 3600000 ELSE (OLD.time_ms - 3599999) / 3600000 END)
      AND function_name = COALESCE(OLD.function_name, '') AND reason = COALESCE(OLD.reason, '') AND action = OLD.action
      AND mode = COALESCE(OLD.mode, '') AND account_id = COALESCE(OLD.account_id, '') AND region = COALESCE(OLD.region, '')
      AND group_id = OLD.group_id AND shard = 0;
END;
