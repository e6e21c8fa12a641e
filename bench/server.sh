#!/usr/bin/env bash
# The control plane under load, measured on this machine (release build, loopback only, as root for
# the throwaway PostgreSQL cluster). For SQLite (--data) and PostgreSQL 15 (--database), side by side:
#   1. ingest: batches of 100 events from 8 concurrent connections (wrk), every 202 a committed
#      batch: events/s and batch latency p50/p99;
#   2. paced ingest at 10 000 events/s (8 clients): batch latency p50/p99, twice: on the new store
#      right after the burst (on a new PostgreSQL cluster this includes creating its first WAL
#      segments), and once the store holds EVENTS events (default 1 000 000), right after filling it
#      at full speed (autovacuum and the trigram index's merges of a large store run beside it);
#   3. with the store filled: p50/p95 of filtered lists and stats (on SQLite once the search indexer
#      has caught up: how far behind ingest it was, and how long it took, are printed);
#   4. PostgreSQL: the paced ingest twice more on the filled store, each beside PostgreSQL alone at
#      the same pace (pgbench inserting the same rows itself): the share of the latency that is the
#      database's own on this host;
#   5. the server's peak resident memory (VmHWM) over all of it.
#   bench/server.sh [EVENTS] [SECONDS]
# Set KITSUNE_BIN to a kitsune binary to skip the release build; BACKENDS="sqlite" (or "postgresql")
# runs one side only.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
seconds=${2:-15}
source bench/server/common.sh

# fill N: posts until the store holds N events (wrk, 8 connections).
fill() {
  local have
  have=$(stored)
  while [ "$have" -lt "$1" ]; do
    RUN=$(date +%s%N) TOKEN=$group BATCH=500 wrk -t4 -c8 -d10s -s bench/server/post.lua "http://127.0.0.1:$port/api/v1/events" >/dev/null 2>&1
    have=$(stored)
  done
  echo "$have"
}

# index_caught_up TOTAL: on SQLite, waits until the search indexer has indexed TOTAL events; prints
# how many were not indexed yet when ingest ended (the paced run after the fill), and how long
# catching up took.
index_caught_up() {
  local indexed lag start
  indexed() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^kitsune_search_indexed_total/ {print $2}'; }
  lag=$(( $1 - $(indexed) )); start=$(date +%s.%N)
  for _ in $(seq 1 3000); do [ "$(indexed)" -ge "$1" ] && break; sleep 0.2; done
  echo "$lag events behind when ingest ended, caught up in $(python3 -c "import time; print(round(time.time() - $start, 1))") s"
}

# floor: PostgreSQL alone at the paced rate (pgbench, bench/server/floor.sql: 100 rows a transaction,
# 8 clients, 100 transactions/s) on the store as it is; prints JSON as paced.py does (latency counted
# from each transaction's scheduled start, as pgbench does with --rate).
floor() {
  rm -f "$work"/floor.*
  "$pg_bin/pgbench" -h 127.0.0.1 -p "$pg_port" -U kitsune -n -M prepared -f bench/server/floor.sql -c 8 -j 2 -R 100 \
    -T "$seconds" -l --log-prefix="$work/floor" bench > "$work/floor.out" 2>&1 || { cat "$work/floor.out" >&2; exit 1; }
  cat "$work"/floor.[0-9]* | python3 -c '
import json, re, sys
t = sorted(int(line.split()[2]) / 1000 for line in sys.stdin)
failed = re.search(r"number of failed transactions: (\d+)", open(sys.argv[1]).read())
if not t: sys.exit("bench/server.sh: pgbench logged no transaction")
print(json.dumps({"events_per_s": round(len(t) * 100 / '"$seconds"'), "p50_ms": round(t[len(t) // 2], 2),
                  "p99_ms": round(t[int(len(t) * 0.99)], 2), "errors": int(failed.group(1)) if failed else 0}))' "$work/floor.out"
}

# run_backend NAME STORE-ARGS...: one row of figures.
run_backend() {
  local name=$1; shift
  start_server "$name" "$@"
  read -r eps p50 p99 bad < <(ingest "$name")
  paced=$(python3 bench/server/paced.py 127.0.0.1 "$port" "$group" 10000 "$seconds" 8)
  fill "$events" >/dev/null
  paced_filled=$(python3 bench/server/paced.py 127.0.0.1 "$port" "$group" 10000 "$seconds" 8)
  total=$(stored)
  index=""; [ "$name" != sqlite ] || index=$(index_caught_up "$total")
  queries=$(python3 bench/server/query.py 127.0.0.1 "$port" "$admin" 40)
  # PostgreSQL: the server and PostgreSQL alone at the same pace, alternated, on the filled store.
  side="[]"
  if [ "$name" = postgresql ]; then
    local runs=()
    for _ in 1 2; do
      runs+=("$(python3 bench/server/paced.py 127.0.0.1 "$port" "$group" 10000 "$seconds" 8)" "$(floor)")
    done
    side="[$(IFS=,; echo "${runs[*]}")]"
  fi
  rss=$(peak_rss_mb)
  stop_server
  python3 - "$name" "$eps" "$p50" "$p99" "$bad" "$paced" "$paced_filled" "$events" "$total" "$queries" "$rss" "$index" "$side" <<'EOF'
import json, sys
name, eps, p50, p99, bad, paced, paced_filled, filled, total, queries, rss, index, side = sys.argv[1:]
paced, paced_filled, queries, side = json.loads(paced), json.loads(paced_filled), json.loads(queries), json.loads(side)
print(f"\n== {name}")
print(f"{'ingest, 8 connections x batches of 100:':<63} {int(eps):>7} events/s   p50 {p50} ms   p99 {p99} ms   non-202: {bad}")
for label, p in (("new store, after the burst", paced), (f"{int(filled):,} events stored", paced_filled)):
    print(f"{'ingest paced at 10 000 events/s (' + label + '):':<63} {p['events_per_s']:>7} events/s   p50 {p['p50_ms']} ms   p99 {p['p99_ms']} ms   errors: {p['errors']}")
for i in range(0, len(side), 2):
    server, alone = side[i], side[i + 1]
    print(f"paced, filled store, the server vs PostgreSQL alone (pgbench): p50 {server['p50_ms']} vs {alone['p50_ms']} ms, "
          f"p99 {server['p99_ms']} vs {alone['p99_ms']} ms (ratio {server['p99_ms'] / max(alone['p99_ms'], 0.01):.2f}), "
          f"errors {server['errors']} / {alone['errors']}")
if index: print(f"search index (SQLite): {index}")
print(f"queries with {int(total):,} events stored (40 runs each):")
for q, t in queries.items():
    print(f"  {q:<24} p50 {t['p50_ms']:>7} ms   p95 {t['p95_ms']:>7} ms")
print(f"  worst p95: {max(t['p95_ms'] for t in queries.values())} ms")
print(f"server peak RSS (VmHWM): {rss} MB")
EOF
}

echo "bench/server.sh: $(nproc) cores, $(basename "$kitsune") $("$kitsune" --version 2>/dev/null | head -1); targets: >= 50000 events/s (SQLite), p99 < 50 ms at 10 000 events/s, query p95 < 100 ms at 1M events"
case " ${BACKENDS:-sqlite postgresql} " in *" sqlite "*)
  run_backend sqlite --data "$work/sqlite"
  # Its gigabyte of dirty pages would otherwise be written back while PostgreSQL is measured.
  rm -rf "$work/sqlite"; sync;;
esac
case " ${BACKENDS:-sqlite postgresql} " in *" postgresql "*)
  start_postgres bench
  run_backend postgresql --database "postgres://kitsune@127.0.0.1:$pg_port/bench?sslmode=disable";;
esac
