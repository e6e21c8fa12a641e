#!/usr/bin/env bash
# Enforcer cost, measured side by side in one run (release builds). Prints ratios.
#   bench/enforcer.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kitsune-enforcer >/dev/null
swift build -c release --product kitsune-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
"$bin/kitsune-bench" enforcer --enforcer "$bin/kitsune-enforcer" --iterations "${1:-2000}"
floor=$(mktemp -d)
cc -O2 -o "$floor/seccomp_floor" bench/seccomp_floor.c && "$floor/seccomp_floor"
rm -rf "$floor"
