#!/usr/bin/env bash
# What the store's derived data costs ingest, measured side by side in one run: a store as migrated
# ("full") against the same schema without the hourly roll-up triggers (event_counts), and without
# the trigram index of free-text search (SQLite: its triggers dropped and the indexer off;
# PostgreSQL: the index dropped), alternated ROUNDS times; each turn is
# SECONDS of 8 connections posting batches of 100 (durable 202s), then SECONDS paced at 10 000
# events/s. Prints each turn and the ratios of the medians (full / without).
#   bench/ingest-cost.sh [ROUNDS] [SECONDS]      (root; release build unless KITSUNE_BIN is set;
#   BACKENDS=sqlite: SQLite only; SIDES="search" or "rollups": those comparisons only on SQLite)
# SIDES=baseline BASELINE_BIN=OTHER-KITSUNE: this binary against another (an earlier commit's
# release build), each on a store of its own, the same way (SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-10}
bench_name=bench/ingest-cost.sh
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

# compare BACKEND LABEL-A ARGS-A LABEL-B ARGS-B: alternated turns, then the ratios of the medians.
compare() {
  local backend=$1 la=$2 a_args=$3 lb=$4 b_args=$5 results=""
  for r in $(seq 1 "$rounds"); do
    # shellcheck disable=SC2086
    a=$(turn "$backend-$la-$r" $a_args); b=$(kitsune=${bin_b:-$kitsune} turn "$backend-$lb-$r" $b_args)
    echo "  round $r: $la $a | $lb $b   (events/s, p99 ms, paced p99 ms)"
    results+="$a $b"$'\n'
  done
  python3 - "$backend" "$la" "$lb" "$results" <<'PY'
import statistics, sys
backend, la, lb = sys.argv[1:4]
rows = [list(map(float, l.split())) for l in sys.argv[4].strip().split("\n")]
med = lambda i: statistics.median(r[i] for r in rows)
print(f"{backend}: {la} / {lb}: events/s {med(0):.0f} / {med(3):.0f} (ratio {med(0) / med(3):.2f}); "
      f"p99 {med(1):.1f} / {med(4):.1f} ms; paced p99 {med(2):.1f} / {med(5):.1f} ms")
PY
}

echo "$bench_name: $(nproc) cores, $("$kitsune" --version 2>/dev/null | head -1), $rounds rounds of ${seconds}s a side"
mkdir -p "$work/full" "$work/nocounts"
"$kitsune" server token create --role admin --data "$work/nocounts" >/dev/null 2>&1
sqlite3 "$work/nocounts/kitsune.sqlite3" "DROP TRIGGER events_count_insert; DROP TRIGGER events_count_delete;"
mkdir -p "$work/nosearch"
"$kitsune" server token create --role admin --data "$work/nosearch" >/dev/null 2>&1
sqlite3 "$work/nosearch/kitsune.sqlite3" "DROP TRIGGER events_search_forget; DROP TRIGGER events_search_reused_id;"
case " ${SIDES:-rollups search} " in *" rollups "*) compare sqlite full "--data $work/full" no-rollups "--data $work/nocounts";; esac
case " ${SIDES:-rollups search} " in *" search "*) compare sqlite full "--data $work/full" no-search-index "--data $work/nosearch --search-index-step 0";; esac
case " ${SIDES:-rollups search} " in *" baseline "*)
  [ -x "${BASELINE_BIN:-}" ] || { echo "$bench_name: SIDES=baseline needs BASELINE_BIN, a kitsune binary" >&2; exit 2; }
  bin_b=$BASELINE_BIN compare sqlite this "--data $work/this" baseline "--data $work/baseline";;
esac
[ "${BACKENDS:-sqlite postgresql}" != sqlite ] || exit 0

start_postgres complete
url="postgres://kitsune@127.0.0.1:$pg_port"
# without DDL DB: a fresh database, migrated, then DDL run on it.
without() {
  runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kitsune -d postgres -q -c "CREATE DATABASE $1"
  "$kitsune" server token create --role admin --database "$url/$1?sslmode=disable" >/dev/null 2>&1
  runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kitsune -d "$1" -q -c "$2"
}
without nocounts "DROP TRIGGER events_count_insert ON events; DROP TRIGGER events_count_delete ON events;"
without notrgm "DROP INDEX events_search_codes;"
compare postgresql full "--database $url/complete?sslmode=disable" no-rollups "--database $url/nocounts?sslmode=disable"
compare postgresql full "--database $url/complete?sslmode=disable" no-trigram "--database $url/notrgm?sslmode=disable"
