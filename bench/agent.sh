#!/usr/bin/env bash
# The in-account agent at scale, against moto's Lambda on loopback: the same three passes as
# bench/reconcile.sh, run by `kitsune agent --once` with the account's credentials while the server
# runs with NO AWS credentials or endpoint at all (it cannot call AWS; the account is in agent mode):
#   1. N functions (default 1000; half tagged kitsune=enabled) from nothing to protected;
#   2. a policy change (audit → enforce) across all of them;
#   3. a pass with nothing to do (the steady state every schedule tick).
# Each: wall time of the agent process (pull, pass, report), its AWS calls, what the pass did.
#   bench/agent.sh [N]
# Set KITSUNE_BIN to a kitsune binary (with kitsune-enforcer beside it) to skip the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
bench_name=bench/agent.sh
source bench/reconcile/common.sh
python3 bench/reconcile/seed.py "http://127.0.0.1:$moto_port" "$count"

# The server: no AWS anything in its environment.
port=$(free_port)
admin=$(env -u AWS_ENDPOINT_URL -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$kitsune" server token create --role admin --name bench --data "$work/data" | grep -o 'kit_[0-9a-f_]*' | head -1)
env -u AWS_ENDPOINT_URL -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
  "$kitsune" server --listen "127.0.0.1:$port" --data "$work/data" --public-url https://kitsune.bench.test --rate-limit 0 --reconcile-interval 1h > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
api() { curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $admin" -H "Content-Type: ${4:-application/json}" ${3:+--data-binary "$3"} "http://127.0.0.1:$port$2"; }
agent_token=$(api POST /api/v1/accounts '{"account_id":"123456789012","regions":["eu-west-1"],"mode":"agent"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_token"])')
policy='name: bench
mode: audit
scope:
  tags: ["kitsune=enabled"]
block: [xmrig*]
'
pass() {  # LABEL
  local start end
  start=$(date +%s.%N)
  KITSUNE_TOKEN=$agent_token AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=AKIAKITSUNEBENCH0001 AWS_SECRET_ACCESS_KEY=x AWS_REGION=eu-west-1 \
    AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
    /usr/bin/time -f "%M" -o "$work/rss" "$kitsune" agent --server "http://127.0.0.1:$port" --once > "$work/pass.json"
  end=$(date +%s.%N)
  python3 - "$1" "$start" "$end" "$work/pass.json" "$(cat "$work/rss")" <<'PY'
import json, sys
label, start, end, path, rss = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
r = json.load(open(path))
done = ", ".join(f"{v} {k}" for k, v in r["counts"].items() if v)
print(f"{label:<34} {end - start:7.1f} s wall   {r['aws_calls']:6d} AWS calls   agent peak RSS {rss // 1024} MB   {done}")
PY
}
api POST /api/v1/policies "$policy" application/yaml > /dev/null
pass "1. nothing → protected ($count fns)"
api PUT /api/v1/policies/bench "${policy/mode: audit/mode: enforce}" application/yaml > /dev/null
pass "2. policy change (audit → enforce)"
pass "3. steady state (nothing to do)"
protected=$(api GET "/api/v1/functions?status=protected" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["functions"]))')
echo "server: $protected functions shown protected; peak server RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' /proc/$server_pid/status)"
