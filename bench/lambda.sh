#!/usr/bin/env bash
# What the Kitsune layer costs a Lambda function, all sides in one run (release builds, local
# emulator, AWS's awslambdaric): warm invocation Duration p50/p99 of a function that does not exec,
# Init Duration (cold start), and memory, in alternating rounds of
#   bare   — no layer;
#   layer  — the layer's default policy (enforcer, Runtime API relay, honeypots);
#   extension — the layer with KITSUNE_RUNTIME_RELAY=extension: request ids from the Extensions API's
#            INVOKE events, no relay in the function's path;
#   ship   — the layer with KITSUNE_EVENTS_URL set (a loopback collector; the relay holds a response back
#            until the events it caused are delivered): benign invocations must
#            post nothing, so this should cost the same as `layer`;
#   norelay — the layer with KITSUNE_RUNTIME_RELAY=off: what the request-id relay itself costs;
#   glibc  — the layer with SwiftPM's static-glibc enforcer instead of the musl one the release ships
#            (scripts/build-musl): what the libc costs in memory and time.
# Init Duration is also sampled over extra cold starts (COLD, default 10 per side, one invocation each).
#   bench/lambda.sh [INVOCATIONS_PER_ROUND] [ROUNDS] [COLD] [BUILD]   (needs root, like the emulator;
#            BUILD release (default) or debug: the emulator's build. The layer's kitsune-enforcer is
#            the musl build and kitsune-ship the release build, as shipped, whatever BUILD is;
#            ENFORCER_BUILD=debug takes the debug ones instead, KITSUNE_ENFORCER=PATH another build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}; rounds=${2:-3}; cold=${3:-10}; build=${4:-release}
enforcer_build=${ENFORCER_BUILD:-release}
swift build -c "$enforcer_build" --product kitsune-enforcer >/dev/null
swift build -c "$enforcer_build" --product kitsune-ship >/dev/null
swift build -c "$build" --product kitsune >/dev/null
bin=$(swift build -c "$build" --show-bin-path)
enforcer_bin=$(swift build -c "$enforcer_build" --show-bin-path)
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
# The layer's enforcer (kitsune-ship is taken from beside it): the musl build, as released;
# KITSUNE_ENFORCER=PATH measures another. The glibc side always takes SwiftPM's.
if [ -z "${KITSUNE_ENFORCER:-}" ]; then
  if [ "$enforcer_build" = release ]; then
    scripts/build-musl --out "$work/musl" --ship "$enforcer_bin/kitsune-ship" >/dev/null
    KITSUNE_ENFORCER=$work/musl/kitsune-enforcer
  else
    KITSUNE_ENFORCER=$enforcer_bin/kitsune-enforcer
  fi
fi
mkdir -p "$work/fn"
printf 'def handler(event, context):\n    return {"ok": True}\n' > "$work/fn/app.py"
chmod -R a+rX "$work"
KITSUNE_ENFORCER=$KITSUNE_ENFORCER "$bin/kitsune" layer build -o "$work/layer.zip" 2>/dev/null
KITSUNE_ENFORCER=$enforcer_bin/kitsune-enforcer "$bin/kitsune" layer build -o "$work/layer-glibc.zip" 2>/dev/null
python3 Tests/KitsuneLambdaTests/Fixtures/layer/collector.py "$work/batches.jsonl" > "$work/collector.port" &
sleep 0.5; port=$(head -1 "$work/collector.port")

# Memory of the enforcer's processes (supervisor and sidecar), sampled every 50 ms while the layer
# runs. Each sweep prints, per process, its parent and: Pss (smaps_rollup: pages shared by the
# supervisor and the sidecar — the static binary's file pages, copy-on-write pages neither wrote
# since the fork — are divided between them, so the sum over a sandbox's processes counts each page
# once), its Anon and File parts, Private_Dirty, VmPTE (page tables), and VmHWM/RssAnon/RssFile;
# first, the side running (the file $work/side, written before each invocation).
sample() {
  # A background subshell: a process that exits mid-sweep makes grep or awk fail, which must not
  # end the sampler (errexit and pipefail are the script's, not the sampler's).
  set +e +o pipefail
  local sweep=0 pids p side
  while :; do
    sweep=$((sweep + 1))
    side=$(cat "$work/side" 2>/dev/null || echo none)
    # One grep for the names (a sweep must be short: a warm round lasts well under a second; grep,
    # unlike mawk, goes on past a process that exited between the glob and the read).
    pids=$(grep -H -m1 '^Name:' /proc/[0-9]*/status 2>/dev/null |
           awk '$2 == "wrapper" || $2 ~ /^kitsune-enforce?$/ { split($1, a, "/"); print a[3] }')   # the layer starts it as /opt/kitsune/wrapper
    for p in $pids; do
      awk -v sweep="$sweep" -v pid="$p" -v side="$side" '
        FNR == 1 { file++ }
        file == 1 && /^(PPid|VmHWM|RssAnon|RssFile|VmPTE):/ { v[$1] = $2 }
        file == 2 && /^(Pss|Pss_Anon|Pss_File|Private_Dirty):/ { v[$1] = $2 }
        END { if ("Pss:" in v) print side, sweep, pid, v["PPid:"], v["Pss:"], v["Pss_Anon:"], v["Pss_File:"], v["Private_Dirty:"],
                                       v["VmPTE:"], v["VmHWM:"], v["RssAnon:"], v["RssFile:"] }' \
        "/proc/$p/status" "/proc/$p/smaps_rollup" 2>/dev/null
    done
    sleep 0.02
  done
}
sample > "$work/memory.log" &
sampler=$!

# One side's invocations, logged to $work/SIDE-TURN.log: invoke SIDE TURN [kitsune local invoke arguments...]
invoke() {
  local side=$1 turn=$2; shift 2
  echo "$side" > "$work/side"
  "$bin/kitsune" local invoke --code "$work/fn" --handler app.handler --runtime python3.11 "$@" 2>"$work/$side-$turn.log" >/dev/null
}
wrap=(--layer "$work/layer.zip" --env AWS_LAMBDA_EXEC_WRAPPER=/opt/kitsune/wrapper)
glibc=(--layer "$work/layer-glibc.zip" --env AWS_LAMBDA_EXEC_WRAPPER=/opt/kitsune/wrapper)
ship=(--env "KITSUNE_EVENTS_URL=http://127.0.0.1:$port/events")
for r in $(seq 1 "$rounds"); do
  invoke bare "$r" --repeat "$n"
  invoke layer "$r" --repeat "$n" "${wrap[@]}"
  invoke ship "$r" --repeat "$n" "${wrap[@]}" "${ship[@]}"
  invoke norelay "$r" --repeat "$n" "${wrap[@]}" --env KITSUNE_RUNTIME_RELAY=off
  invoke extension "$r" --repeat "$n" "${wrap[@]}" --env KITSUNE_RUNTIME_RELAY=extension
  invoke glibc "$r" --repeat "$n" "${glibc[@]}"
done
for c in $(seq 1 "$cold"); do
  invoke bare "cold$c"
  invoke layer "cold$c" "${wrap[@]}"
  invoke ship "cold$c" "${wrap[@]}" "${ship[@]}"
  invoke norelay "cold$c" "${wrap[@]}" --env KITSUNE_RUNTIME_RELAY=off
  invoke extension "cold$c" "${wrap[@]}" --env KITSUNE_RUNTIME_RELAY=extension
  invoke glibc "cold$c" "${glibc[@]}"
done
kill "$sampler" 2>/dev/null || true
python3 - "$work" "$rounds" <<'PY'
import collections, glob, json, os, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def load(kind):
    dur, init, mem, blocked = [], [], [], 0
    for path in sorted(glob.glob(f"{work}/{kind}-*.log")):
        warm = "-cold" not in path
        for line in open(path):
            if line.startswith("REPORT"):
                if warm: dur.append(float(re.search(r"Duration: ([0-9.]+) ms", line).group(1)))
                mem.append(int(re.search(r"Max Memory Used: (\d+) MB", line).group(1)))
                m = re.search(r"Init Duration: ([0-9.]+) ms", line)
                if m: init.append(float(m.group(1)))
            if '"action":"blocked"' in line or '"action":"reported"' in line: blocked += 1
    return dur, init, mem, blocked
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round((len(v) - 1) * p)))]
measured = ("layer", "extension", "ship", "norelay", "glibc")
sides = {k: load(k) for k in ("bare",) + measured}
b = sides["bare"]
print(f"kitsune-bench lambda: {len(b[0])} warm invocations per side ({rounds} alternating cold starts each), "
      f"{len(b[1])} cold starts per side for Init Duration, python3.11, no exec")
for k in measured:
    l = sides[k]
    print(f"[{k}] Duration p50  bare {pct(b[0],.5):.3f} ms  {k} {pct(l[0],.5):.3f} ms  added {pct(l[0],.5)-pct(b[0],.5):+.3f} ms  (target <= 0.05 ms)")
    print(f"[{k}] Duration p99  bare {pct(b[0],.99):.3f} ms  {k} {pct(l[0],.99):.3f} ms  added {pct(l[0],.99)-pct(b[0],.99):+.3f} ms  (target <= 0.5 ms)")
    print(f"[{k}] Init Duration median  bare {statistics.median(b[1]):.1f} ms  {k} {statistics.median(l[1]):.1f} ms  added {statistics.median(l[1])-statistics.median(b[1]):+.1f} ms  (target <= 3 ms)")
    print(f"[{k}] Max Memory Used median  bare {statistics.median(b[2]):.0f} MB  {k} {statistics.median(l[2]):.0f} MB  "
          f"added {statistics.median(l[2])-statistics.median(b[2]):+.0f} MB  (emulator's memory-cgroup figure, 1 MB steps)")
    print(f"[{k}] events in the benign runs: {l[3]} (must be 0)")
posted = sum(1 for _ in open(f"{work}/batches.jsonl")) if os.path.exists(f"{work}/batches.jsonl") else 0
print(f"[ship] batches posted: {posted} (the `started` event of each cold start: {rounds + len(glob.glob(work + '/ship-cold*.log'))} expected, none per invocation)")
# Per process: the peak of each figure. Per sandbox (a supervisor and its enforcer children, the
# sidecar — and, for an instant, the command's fork before its exec), per sweep: the sums; then the
# largest sum seen. Separately for the layer as released (every side but glibc) and the glibc side.
keys = ("Pss", "Pss_Anon", "Pss_File", "Private_Dirty", "VmPTE", "VmHWM", "RssAnon", "RssFile")
libc = lambda side: "glibc" if side == "glibc" else "released"
peak = collections.defaultdict(lambda: dict.fromkeys(keys, 0))
sweeps = collections.defaultdict(list)
for line in open(f"{work}/memory.log"):
    f = line.split()
    if len(f) != 4 + len(keys): continue
    side, sweep, pid, ppid, vals = f[0], f[1], f[2], f[3], dict(zip(keys, map(int, f[4:])))
    for k in keys: peak[(libc(side), pid)][k] = max(peak[(libc(side), pid)][k], vals[k])
    sweeps[(libc(side), sweep)].append((pid, ppid, vals))
box = {g: dict.fromkeys(("Pss", "Pss_Anon", "Pss_File", "Private_Dirty", "VmPTE"), 0) for g in ("released", "glibc")}
for (group, _), procs in sweeps.items():
    pids = {p for p, _, _ in procs}
    groups = collections.defaultdict(list)
    for pid, ppid, vals in procs: groups[ppid if ppid in pids else pid].append(vals)
    for members in groups.values():
        for k in box[group]: box[group][k] = max(box[group][k], sum(v[k] for v in members))
for group, what in (("released", "the layer as released (musl enforcer)"), ("glibc", "the glibc side")):
    p = [v for (g, _), v in peak.items() if g == group]
    if not p: continue
    b = box[group]
    span = lambda k: f"{min(v[k] for v in p)}–{max(v[k] for v in p)}"
    print(f"[{group}] enforcer processes seen: {len(p)}; peak per process: VmHWM {span('VmHWM')} kB, RssAnon {span('RssAnon')} kB, "
          f"RssFile {span('RssFile')} kB, Pss {span('Pss')} kB, Private_Dirty {span('Private_Dirty')} kB, VmPTE {span('VmPTE')} kB")
    print(f"[{group}] added per sandbox by {what} (supervisor + sidecar), largest sum over one sweep: Pss {b['Pss']} kB "
          f"(anon {b['Pss_Anon']} kB, the binary's file pages {b['Pss_File']} kB) + page tables {b['VmPTE']} kB "
          f"= {b['Pss'] + b['VmPTE']} kB  (target ≤ 1.0 MB = 1024 kB)")
if all(box[g]["Pss"] for g in box):
    tot = {g: box[g]["Pss"] + box[g]["VmPTE"] for g in box}
    print(f"memory per sandbox, released / glibc: {tot['released']} / {tot['glibc']} kB = {tot['released'] / tot['glibc']:.2f}×")
PY
