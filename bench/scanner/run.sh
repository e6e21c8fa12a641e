#!/bin/sh
# Scanner benchmarks (issue 3). Prints the figures; one run each.
#   bench/scanner/run.sh [KITSUNE_BINARY]
# Default binary: a release build in .build-a1r (swift build -c release --scratch-path .build-a1r).
# Needs: python3, /usr/bin/time (Debian package `time`), `pip install detect-secrets`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/.build-a1r/release/kitsune}
work=${KITSUNE_BENCH_DIR:-/tmp/kitsune-bench-scanner}
[ -x "$bin" ] || { echo "no kitsune binary at $bin (build: swift build -c release --scratch-path .build-a1r)" >&2; exit 2; }
command -v detect-secrets >/dev/null || { echo "detect-secrets missing: pip install detect-secrets" >&2; exit 2; }
mkdir -p "$work"

echo "== (a) secrets: kitsune vs detect-secrets"
[ -f "$work/secrets/labels.json" ] || python3 "$here/gen_secret_fixtures.py" "$work/secrets" 30
python3 "$here/secrets_vs_detect_secrets.py" "$bin" "$work/secrets"

echo "== (b) whole scan of a ~100 MB Lambda zip"
[ -f "$work/lambda.zip" ] || python3 "$here/gen_lambda_zip.py" "$work/lambda.zip" 100
/usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KB" \
    "$bin" scan "$work/lambda.zip" --format json --fail-on never --output "$work/lambda-report.json" 2>&1 | grep -v '^note:'
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('   ', r['statistics'], r['summary']['packages'], 'packages,', r['summary']['executables'], 'executables')" "$work/lambda-report.json"

echo "== (c) a 1 GiB file is streamed (sparse, a key id at the end)"
big="$work/big.bin"
python3 - "$big" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.truncate(1 << 30)
    f.seek(1 << 30)
    f.write(b"\nAKIA" + b"QWERTYUIOPASDFGH" + b"\n")
PY
/usr/bin/time -f "wall %e s, user %U s, peak RSS %M KB" \
    "$bin" scan "$big" --format json --fail-on never --output "$work/big-report.json" 2>&1 | grep -v '^note:'
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('   ', [ (f['rule_id'], f['location']) for f in r['findings']], r['statistics'])" "$work/big-report.json"
rm -f "$big"
