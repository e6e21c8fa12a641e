#!/usr/bin/env bash
# What the Kitsune layer costs a Lambda function, both sides in one run (release builds, local
# emulator, AWS's awslambdaric): warm invocation Duration p50/p99 of a function that does not exec,
# Init Duration (cold start), and Max Memory Used, without and with the layer, in alternating rounds.
#   bench/lambda.sh [INVOCATIONS_PER_ROUND] [ROUNDS]      (needs root, like the emulator)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}; rounds=${2:-4}
swift build -c release --product kitsune-enforcer >/dev/null
swift build -c release --product kitsune >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/fn"
printf 'def handler(event, context):\n    return {"ok": True}\n' > "$work/fn/app.py"
chmod -R a+rX "$work"
"$bin/kitsune" layer build -o "$work/layer.zip" 2>/dev/null
for r in $(seq 1 "$rounds"); do
  "$bin/kitsune" local invoke --code "$work/fn" --handler app.handler --runtime python3.11 --repeat "$n" \
      2>"$work/bare-$r.log" >/dev/null
  "$bin/kitsune" local invoke --code "$work/fn" --handler app.handler --runtime python3.11 --repeat "$n" \
      --layer "$work/layer.zip" --env AWS_LAMBDA_EXEC_WRAPPER=/opt/kitsune/wrapper 2>"$work/layer-$r.log" >/dev/null
done
python3 - "$work" "$rounds" <<'PY'
import glob, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def load(kind):
    dur, init, mem, blocked = [], [], [], 0
    for path in sorted(glob.glob(f"{work}/{kind}-*.log")):
        for line in open(path):
            if line.startswith("REPORT"):
                dur.append(float(re.search(r"Duration: ([0-9.]+) ms", line).group(1)))
                mem.append(int(re.search(r"Max Memory Used: (\d+) MB", line).group(1)))
                m = re.search(r"Init Duration: ([0-9.]+) ms", line)
                if m: init.append(float(m.group(1)))
            if '"action":"blocked"' in line: blocked += 1
    return dur, init, mem, blocked
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round((len(v) - 1) * p)))]
b, l = load("bare"), load("layer")
print(f"kitsune-bench lambda: {len(b[0])} warm invocations per side ({rounds} alternating cold starts), python3.11, no exec")
print(f"Duration p50  bare {pct(b[0],.5):.3f} ms  layer {pct(l[0],.5):.3f} ms  added {pct(l[0],.5)-pct(b[0],.5):+.3f} ms  (target < 0.1 ms)")
print(f"Duration p99  bare {pct(b[0],.99):.3f} ms  layer {pct(l[0],.99):.3f} ms  added {pct(l[0],.99)-pct(b[0],.99):+.3f} ms")
print(f"Init Duration median  bare {statistics.median(b[1]):.1f} ms  layer {statistics.median(l[1]):.1f} ms  added {statistics.median(l[1])-statistics.median(b[1]):+.1f} ms  (target < 5 ms)")
print(f"Max Memory Used max  bare {max(b[2])} MB  layer {max(l[2])} MB  added {max(l[2])-max(b[2]):+d} MB  (target <= 1.5 MB; the emulator's figure comes from the memory cgroup)")
print(f"blocked events in the benign runs: {l[3]} (must be 0)")
PY
