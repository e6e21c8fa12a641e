# Shared by the control-plane benches (bench/server.sh, bench/ingest-cost.sh): sourced, not run. Checks
# root, wrk and PostgreSQL, picks the kitsune binary (KITSUNE_BIN or a release build), makes $work
# (removed on exit, with any server and PostgreSQL cluster started), and defines the helpers below.
[ "$(id -u)" -eq 0 ] || { echo "${bench_name:-bench/server.sh}: needs root (runs PostgreSQL as the postgres user)" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
pg_bin=$(ls -d /usr/lib/postgresql/1[5-9]/bin 2>/dev/null | head -1)
[ -n "$pg_bin" ] || { echo "${bench_name:-bench/server.sh}: PostgreSQL is missing (scripts/setup installs postgresql-15)" >&2; exit 2; }
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

# start_server NAME STORE-OPTION VALUE [SERVER-OPTIONS...]: a server on a new port, with an admin token
# and a group token.
start_server() {
  local name=$1; shift
  port=$(free_port)
  admin=$("$kitsune" server token create --role admin --name bench "${@:1:2}" 2>/dev/null | grep -o 'kit_[0-9a-f_]*' | head -1)
  "$kitsune" server --listen "127.0.0.1:$port" --rate-limit 0 "$@" > "$work/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
  group=$(api POST /api/v1/enforcer-groups "$admin" "{\"name\":\"bench-$(date +%s%N)\"}" | json_field token)
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

# start_postgres: a throwaway PostgreSQL cluster in $work/pg on a free loopback port ($pg_port), user
# kitsune; start_postgres DB creates database DB.
start_postgres() {
  mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
  runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -A trust -U kitsune >/dev/null
  pg_port=$(free_port)
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -w -l "$work/pg/log" \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
  runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kitsune -d postgres -q -c "CREATE DATABASE $1"
}
