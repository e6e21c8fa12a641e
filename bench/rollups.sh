#!/usr/bin/env bash
# What the hourly roll-ups (event_counts, kept by triggers inside the ingest transaction) cost ingest,
# measured side by side in one run: for SQLite and PostgreSQL, a store as migrated ("counted") and the
# same schema with the two roll-up triggers dropped ("uncounted"), alternated ROUNDS times; each turn
# is SECONDS of 8 connections posting batches of 100 (durable 202s), then SECONDS paced at 10 000
# events/s. Prints each turn and the ratio of the medians (counted / uncounted).
#   bench/rollups.sh [ROUNDS] [SECONDS]      (root; release build unless KITSUNE_BIN is set)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-10}
bench_name=bench/rollups.sh
source bench/server/common.sh

# turn NAME STORE-ARGS...: one turn on a store; prints "events/s p99 paced-p99".
turn() {
  local name=$1; shift
  start_server "$name" "$@"
  read -r eps _ p99 _ < <(ingest "$name")
  paced=$(python3 bench/server/paced.py 127.0.0.1 "$port" "$group" 10000 "$seconds" 8 | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_ms"])')
  stop_server
  echo "$eps $p99 $paced"
}

# compare BACKEND COUNTED-ARGS UNCOUNTED-ARGS
compare() {
  local backend=$1 counted=$2 uncounted=$3 results=""
  for r in $(seq 1 "$rounds"); do
    # shellcheck disable=SC2086
    a=$(turn "$backend-counted-$r" $counted); b=$(turn "$backend-uncounted-$r" $uncounted)
    echo "  round $r: counted $a | uncounted $b   (events/s, p99 ms, paced p99 ms)"
    results+="$a $b"$'\n'
  done
  python3 - "$backend" "$results" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.argv[2].strip().split("\n")]
med = lambda i: statistics.median(r[i] for r in rows)
print(f"{sys.argv[1]}: roll-ups cost ingest {100 * (1 - med(0) / med(3)):.0f}% of events/s "
      f"(median {med(0):.0f} vs {med(3):.0f}; ratio {med(0) / med(3):.2f}); p99 {med(1):.1f} vs {med(4):.1f} ms; "
      f"paced p99 {med(2):.1f} vs {med(5):.1f} ms")
PY
}

echo "$bench_name: $(nproc) cores, $("$kitsune" --version 2>/dev/null | head -1), $rounds rounds of ${seconds}s a side"
mkdir -p "$work/counted" "$work/uncounted"
"$kitsune" server token create --role admin --data "$work/uncounted" >/dev/null
sqlite3 "$work/uncounted/kitsune.sqlite3" "DROP TRIGGER events_count_insert; DROP TRIGGER events_count_delete;"
compare sqlite "--data $work/counted" "--data $work/uncounted"

start_postgres counted
runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kitsune -d postgres -q -c "CREATE DATABASE uncounted"
url="postgres://kitsune@127.0.0.1:$pg_port"
"$kitsune" server token create --role admin --database "$url/uncounted?sslmode=disable" >/dev/null
runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kitsune -d uncounted -q \
  -c "DROP TRIGGER events_count_insert ON events; DROP TRIGGER events_count_delete ON events;"
compare postgresql "--database $url/counted?sslmode=disable" "--database $url/uncounted?sslmode=disable"
