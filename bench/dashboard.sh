#!/usr/bin/env bash
# The dashboard with EVENTS events stored (default 1 000 000; SQLite, release build, loopback):
#   1. server side: the HTML and every API call the overview and events pages make, p50/p95 each and
#      their sum per page (target < 300 ms);
#   2. headless chromium: first contentful paint and first meaningful paint (the page's data on
#      screen) of each page (target < 1 s).
#   bench/dashboard.sh [EVENTS] [RUNS]
# Set KITSUNE_BIN to a kitsune binary to skip the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
runs=${2:-20}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && python3 -c 'import selenium' \
  || { echo "bench/dashboard.sh: needs chromium, chromium-driver and Selenium (scripts/setup installs them)" >&2; exit 2; }
if [ -n "${KITSUNE_BIN:-}" ]; then kitsune=$KITSUNE_BIN; else
  swift build -c release --product kitsune >/dev/null
  kitsune="$(swift build -c release --show-bin-path)/kitsune"
fi
work=$(mktemp -d /tmp/kitsune-bench-dashboard-XXXXXX)
server_pid=""
cleanup() { [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
api() { curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+--data "$4"} "http://127.0.0.1:$port$2"; }
admin=$("$kitsune" server token create --role admin --name bench --data "$work/data" | grep -o 'kit_[0-9a-f_]*' | head -1)
"$kitsune" server --listen "127.0.0.1:$port" --rate-limit 0 --data "$work/data" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
group=$(api POST /api/v1/enforcer-groups "$admin" '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
stored() { api GET "/api/v1/events/stats?group_by=reason" "$admin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
have=$(stored)
# bench/server's loader: batches of 500 from 8 connections, events spread over the last hours.
while [ "$have" -lt "$events" ]; do
  RUN=$(date +%s%N) TOKEN=$group BATCH=500 wrk -t4 -c8 -d10s -s bench/server/post.lua "http://127.0.0.1:$port/api/v1/events" >/dev/null 2>&1
  have=$(stored)
done
echo "bench/dashboard.sh: $(nproc) cores, $("$kitsune" --version 2>/dev/null | head -1), $have events stored (SQLite)"
serve=$(python3 bench/dashboard/serve.py "http://127.0.0.1:$port" "$admin" "$runs")
paint=$(python3 bench/dashboard/paint.py "http://127.0.0.1:$port" "$admin" "$((runs / 2))")
python3 - "$serve" "$paint" <<'PY'
import json, sys
serve, paint = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for page in ("overview", "events"):
    s, p = serve[page], paint[page]
    print(f"\n== {page}: served p50 {s['page_p50_ms']} ms  p95 {s['page_p95_ms']} ms (sum of its calls; target < 300)   "
          f"first contentful paint p50 {p['fcp_p50_ms']} ms, meaningful p50 {p['meaningful_p50_ms']} ms  max {p['meaningful_max_ms']} ms (target < 1000)")
    for call, t in s["calls"].items():
        print(f"   {call:<80} {t}")
PY
