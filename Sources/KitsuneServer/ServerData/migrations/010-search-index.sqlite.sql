-- Schema version 10 (SQLite only): a trigram index for free-text search (`q`), the counterpart of
-- PostgreSQL's pg_trgm index (migration 9). Tokenizing costs about 8 µs an event, so the index is
-- not filled inside the ingest transaction: the server's search indexer (`SearchIndexer`) adds the
-- events after the watermark `search_index.through` in small steps, in the gaps between ingest
-- commits. Queries take candidates from the index for ids up to the watermark and scan the ids after
-- it, and check every candidate against the text, so `q` is exact whatever the index's lag.
-- `detail=none`: the index keeps which events hold each trigram, not where (a third of the size);
-- `case_sensitive 1`: the stored text and `q` are both lowercased already. Contentless: the text
-- stays in `events` only.
CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(search, content='', tokenize='trigram case_sensitive 1', detail='none');
CREATE TABLE IF NOT EXISTS search_index (
    name TEXT PRIMARY KEY,
    through BIGINT NOT NULL
);
-- No automatic merging: FTS5 would otherwise merge segments inside whichever step crosses a threshold
-- (a 50 ms step at the 99th percentile, measured, stalling ingest behind it); each indexer step
-- instead merges a bounded amount of work itself ('merge', 16 pages), so every step stays short.
INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 0);
INSERT INTO search_index (name, through) VALUES ('events', 0) ON CONFLICT (name) DO NOTHING;
-- An indexed event leaves the index with its row (retention): a contentless index forgets a row
-- only when told its text.
CREATE TRIGGER IF NOT EXISTS events_search_forget AFTER DELETE ON events
WHEN old.id <= (SELECT through FROM search_index WHERE name = 'events')
BEGIN
    INSERT INTO events_fts (events_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
-- SQLite gives a new row the largest id plus one, so an id can come back after the newest rows were
-- deleted. Such a row is not indexed: the watermark moves back below it (no row above it is left,
-- and the index forgot every deleted one).
CREATE TRIGGER IF NOT EXISTS events_search_reused_id AFTER INSERT ON events
WHEN new.id <= (SELECT through FROM search_index WHERE name = 'events')
BEGIN
    UPDATE search_index SET through = new.id - 1 WHERE name = 'events';
END;
