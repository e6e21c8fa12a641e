#!/usr/bin/env bash
# Enforcer cost, measured side by side in one run (release builds). Prints ratios.
#   bench/enforcer.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kitsune-enforcer >/dev/null
swift build -c release --product kitsune-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
"$bin/kitsune-bench" enforcer --enforcer "$bin/kitsune-enforcer" --iterations "${1:-2000}"
# Synchronous notification wake-ups (Linux >= 6.6; the started event says whether the kernel granted
# them): the same fork+exec figures with them switched off, for the difference they make.
sync=$("$bin/kitsune-enforcer" --events - -- /bin/true | grep -o '"notification_sync_wakeup":[a-z]*' || true)
echo "synchronous wake-ups: ${sync#*:}"
KITSUNE_SIMULATE_MISSING=sync_wakeup "$bin/kitsune-bench" enforcer --enforcer "$bin/kitsune-enforcer" \
    --iterations "${1:-2000}" | grep -E "^fork" | sed 's/^/[without synchronous wake-ups] /'
floor=$(mktemp -d)
# Again with honeypots on (as in the Lambda layer's default policy) and a Lambda-sized environment
# (about 40 variables): every exec's environment block is then read and searched for the decoys.
cat > "$floor/honeypot.yaml" <<YAML
version: 1
honeypot:
  env:
    AWS_BACKUP_ACCESS_KEY_ID: aws-access-key-id
    AWS_BACKUP_SECRET_ACCESS_KEY: aws-secret-access-key
  files: [$floor/.aws/credentials]
YAML
lambda_env=()
for i in $(seq 1 36); do lambda_env+=("LAMBDA_LIKE_VARIABLE_$i=value-of-a-typical-lambda-environment-variable-$i"); done
env "${lambda_env[@]}" "$bin/kitsune-bench" enforcer --enforcer "$bin/kitsune-enforcer" --iterations "${1:-2000}" \
    --policy "$floor/honeypot.yaml" | grep -E "^kitsune-bench|^fork|^supervisor"
cc -O2 -o "$floor/seccomp_floor" bench/seccomp_floor.c && "$floor/seccomp_floor"
rm -rf "$floor"
