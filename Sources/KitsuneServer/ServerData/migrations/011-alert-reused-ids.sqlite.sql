-- Schema version 11 (SQLite only): the alert evaluator's cursor survives SQLite handing out an id
-- again. SQLite gives a new row the largest id plus one, so once retention has deleted the newest
-- events (a fleet quiet for the whole retention period, then an attack), new events get ids the
-- evaluator has passed already and would never be evaluated. Such a row moves the cursor (and the
-- start of alerting) back below it and forgets the evaluated marks from it on: every row above it
-- is gone, and the alerts already raised for them stay. PostgreSQL's identity never goes back.
CREATE TRIGGER IF NOT EXISTS events_alert_reused_id AFTER INSERT ON events
WHEN new.id <= (SELECT last_event_id FROM alert_cursor WHERE name = 'events')
BEGIN
    UPDATE alert_cursor SET last_event_id = new.id - 1 WHERE name IN ('events', 'start') AND last_event_id >= new.id;
    DELETE FROM alert_seen_events WHERE event_id >= new.id;
END;
