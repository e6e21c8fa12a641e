#!/usr/bin/env bash
# The control plane under load, measured on this machine (release build, loopback only, as root for
# the throwaway PostgreSQL cluster). For SQLite (--data) and PostgreSQL 15 (--database), side by side:
#   1. ingest: batches of 100 events from 8 concurrent connections (wrk), every 202 a committed
#      batch: events/s and batch latency p50/p99;
#   2. paced ingest at 10 000 events/s (8 clients): batch latency p50/p99;
#   3. the store filled to EVENTS events (default 1 000 000): p50/p95 of filtered lists and stats;
#   4. the server's peak resident memory (VmHWM) over all of it.
#   bench/server.sh [EVENTS] [SECONDS]
# Set KITSUNE_BIN to a kitsune binary to skip the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
seconds=${2:-15}
[ "$(id -u)" -eq 0 ] || { echo "bench/server.sh: needs root (runs PostgreSQL as the postgres user)" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
pg_bin=$(ls -d /usr/lib/postgresql/1[5-9]/bin 2>/dev/null | head -1)
[ -n "$pg_bin" ] || { echo "bench/server.sh: PostgreSQL is missing (scripts/setup installs postgresql-15)" >&2; exit 2; }
if [ -n "${KITSUNE_BIN:-}" ]; then kitsune=$KITSUNE_BIN; else
  swift build -c release --product kitsune >/dev/null
  kitsune="$(swift build -c release --show-bin-path)/kitsune"
fi
work=$(mktemp -d /tmp/kitsune-bench-server-XXXXXX)
chmod 755 "$work"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ ! -d "$work/pg" ] || runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api() {  # METHOD PATH TOKEN [BODY]
  curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+--data "$4"} "http://127.0.0.1:$port$2"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

# start_server NAME STORE-ARGS...: a server on a new port, with an admin token and a group token.
start_server() {
  local name=$1; shift
  port=$(free_port)
  admin=$("$kitsune" server token create --role admin --name bench "$@" | grep -o 'kit_[0-9a-f_]*' | head -1)
  "$kitsune" server --listen "127.0.0.1:$port" --rate-limit 0 "$@" > "$work/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
  group=$(api POST /api/v1/enforcer-groups "$admin" '{"name":"bench"}' | json_field token)
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status"; }
stored() { api GET "/api/v1/events/stats?group_by=reason" "$admin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

# ingest NAME: wrk for SECONDS; prints events/s p50 p99 (ms) and non-202 answers.
ingest() {
  RUN=$(date +%s%N) TOKEN=$group BATCH=100 wrk -t8 -c8 -d"${seconds}s" --latency -s bench/server/post.lua "http://127.0.0.1:$port/api/v1/events" \
    > "$work/$1.wrk" 2> "$work/$1.wrk.err"
  python3 - "$work/$1.wrk" "$work/$1.wrk.err" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\b" % label, text, re.M)
    v = float(m.group(1)); return {"us": v / 1000, "ms": v, "s": v * 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
bad = sum(1 for line in open(sys.argv[2]) if line.startswith("unexpected status"))
print("%d %.1f %.1f %d" % (rps * 100, ms("50%"), ms("99%"), bad))
EOF
}

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

# run_backend NAME STORE-ARGS...: one row of figures.
run_backend() {
  local name=$1; shift
  start_server "$name" "$@"
  read -r eps p50 p99 bad < <(ingest "$name")
  paced=$(python3 bench/server/paced.py 127.0.0.1 "$port" "$group" 10000 "$seconds" 8)
  total=$(fill "$events")
  queries=$(python3 bench/server/query.py 127.0.0.1 "$port" "$admin" 40)
  rss=$(peak_rss_mb)
  stop_server
  python3 - "$name" "$eps" "$p50" "$p99" "$bad" "$paced" "$total" "$queries" "$rss" <<'EOF'
import json, sys
name, eps, p50, p99, bad, paced, total, queries, rss = sys.argv[1:]
paced, queries = json.loads(paced), json.loads(queries)
print(f"\n== {name}")
print(f"ingest, 8 connections x batches of 100:  {int(eps):>7} events/s   p50 {p50} ms   p99 {p99} ms   non-202: {bad}")
print(f"ingest paced at 10 000 events/s:          {paced['events_per_s']:>7} events/s   p50 {paced['p50_ms']} ms   p99 {paced['p99_ms']} ms   errors: {paced['errors']}")
print(f"queries with {int(total):,} events stored (40 runs each):")
for q, t in queries.items():
    print(f"  {q:<24} p50 {t['p50_ms']:>7} ms   p95 {t['p95_ms']:>7} ms")
print(f"  worst p95: {max(t['p95_ms'] for t in queries.values())} ms")
print(f"server peak RSS (VmHWM): {rss} MB")
EOF
}

echo "bench/server.sh: $(nproc) cores, $(basename "$kitsune") $("$kitsune" --version 2>/dev/null | head -1); targets: >= 50000 events/s (SQLite), p99 < 50 ms at 10 000 events/s, query p95 < 100 ms at 1M events"
run_backend sqlite --data "$work/sqlite"

mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -A trust -U kitsune >/dev/null
pg_port=$(free_port)
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -w -l "$work/pg/log" \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kitsune -d postgres -q -c "CREATE DATABASE bench"
run_backend postgresql --database "postgres://kitsune@127.0.0.1:$pg_port/bench?sslmode=disable"
