-- Schema version 7, both dialects (after the dialect's own 007 file has created the table and its
-- triggers, in the same transaction): the index for stats of one function, and the counts of the
-- events already stored.
CREATE INDEX IF NOT EXISTS event_counts_function ON event_counts (function_name, bucket);
INSERT INTO event_counts (bucket, function_name, reason, action, mode, account_id, region, group_id, shard, n)
    SELECT (CASE WHEN time_ms >= 0 THEN time_ms / 3600000 ELSE (time_ms - 3599999) / 3600000 END),
           COALESCE(function_name, ''), COALESCE(reason, ''), action, COALESCE(mode, ''), COALESCE(account_id, ''),
           COALESCE(region, ''), group_id, 0, COUNT(*)
    FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
