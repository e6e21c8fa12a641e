-- Schema version 2: the request-id index also serves the newest-first order. Without it PostgreSQL
-- walks the time index backwards hoping to meet a rare request id (0.5 s at 1M events).
DROP INDEX IF EXISTS events_request;
CREATE INDEX IF NOT EXISTS events_request_time ON events (request_id, time_ms, id);
