#!/usr/bin/env bash
# The reconciler at scale, against moto's Lambda on loopback (release build):
#   1. N functions (default 1000; half tagged kitsune=enabled) from nothing to protected by one policy;
#   2. a policy change (audit → enforce) across all of them: a new layer version everywhere;
#   3. a pass with nothing to do (the steady state every interval).
# Each: wall time, AWS calls made, and what the pass did. The target: a change reaches every function
# in scope within one reconcile interval (default 60 s).
#   bench/reconcile.sh [N]
# Set KITSUNE_BIN to a kitsune binary (with kitsune-enforcer beside it) to skip the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
bench_name=bench/reconcile.sh
source bench/reconcile/common.sh
seed_start=$(date +%s.%N)
python3 bench/reconcile/seed.py "http://127.0.0.1:$moto_port" "$count"
echo "seeding moto: $(python3 -c "print(round($(date +%s.%N) - $seed_start, 1))") s"

port=$(free_port)
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=AKIAKITSUNEBENCH0001 AWS_SECRET_ACCESS_KEY=x AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
admin=$("$kitsune" server token create --role admin --name bench --data "$work/data" | grep -o 'kit_[0-9a-f_]*' | head -1)
# The background pass would race the timed ones: a long interval keeps it out of the way (it still
# runs once at start, before anything is configured).
"$kitsune" server --listen "127.0.0.1:$port" --data "$work/data" --public-url https://kitsune.bench.test --rate-limit 0 \
  --reconcile-interval 1h > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
api() { curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $admin" -H "Content-Type: ${4:-application/json}" ${3:+--data-binary "$3"} "http://127.0.0.1:$port$2"; }
api POST /api/v1/accounts '{"account_id":"123456789012","regions":["eu-west-1"]}' >/dev/null
policy='name: bench
mode: audit
scope:
  tags: ["kitsune=enabled"]
block: [xmrig*]
'
pass() {  # LABEL
  local start end
  start=$(date +%s.%N)
  api POST /api/v1/reconcile > "$work/pass.json"
  end=$(date +%s.%N)
  python3 - "$1" "$start" "$end" "$work/pass.json" <<'PY'
import json, sys
label, start, end, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
done = ", ".join(f"{v} {k}" for k, v in r["counts"].items() if v)
print(f"{label:<34} {end - start:7.1f} s wall   {r['aws_calls']:6d} AWS calls   {done}")
PY
}
until api POST /api/v1/policies "$policy" application/yaml > /dev/null 2>&1; do sleep 0.5; done
pass "1. nothing → protected ($count fns)"
api PUT /api/v1/policies/bench "${policy/mode: audit/mode: enforce}" application/yaml > /dev/null
pass "2. policy change (audit → enforce)"
pass "3. steady state (nothing to do)"
echo "peak server RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' /proc/$server_pid/status); load: $(cut -d' ' -f1-3 /proc/loadavg)"
