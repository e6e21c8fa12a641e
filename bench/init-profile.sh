#!/usr/bin/env bash
# Where the layer's Init Duration (cold start) goes, piece by piece, all sides alternated in one run
# (local emulator, AWS's awslambdaric for Python; Node's own runtime client when /usr/bin/node exists):
#   bare     — no layer;
#   wrapper  — a layer whose AWS_LAMBDA_EXEC_WRAPPER is only `exec "$@"` (/bin/sh): what an exec
#              wrapper script costs (the layer's own wrapper is the enforcer binary, no script);
#   enforcer — the layer with a policy without honeypot files and KITSUNE_RUNTIME_RELAY=off: the
#              enforcer with no sidecar;
#   layer    — the layer as shipped (enforcer, sidecar: Runtime API relay and decoy-file watch).
# Differences of the median Init Duration give the pieces. The enforcer sides run with
# KITSUNE_INIT_PROFILE=1, so the enforcer prints its own phases (microseconds since its start: policy
# load, kernel probe, sidecar fork, seccomp filter build, the child's Landlock and filter install, the
# runtime's exec) and the seccomp notifications answered so far after each 10 ms without one (the
# last such line of a log is the cold start's count: the one invocation does not exec).
#   bench/init-profile.sh [COLD_STARTS_PER_SIDE] [BUILD]     (needs root, like the emulator; BUILD: release|debug)
set -euo pipefail
cd "$(dirname "$0")/.."
cold=${1:-10}; build=${2:-release}
swift build -c "$build" --product kitsune-enforcer >/dev/null
swift build -c "$build" --product kitsune >/dev/null
bin=$(swift build -c "$build" --show-bin-path)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/fn" "$work/node" "$work/wrapper/kitsune"
printf 'def handler(event, context):\n    return {"ok": True}\n' > "$work/fn/app.py"
printf 'exports.handler = async () => ({ok: true});\n' > "$work/node/index.js"
printf '#!/bin/sh\nexec "$@"\n' > "$work/wrapper/kitsune/wrapper"
chmod 755 "$work/wrapper/kitsune/wrapper"
printf 'version: 1\nmode: enforce\npackage: [/var/task, /opt]\ninterpreter_scripts: block\nnative_code: block\n' > "$work/nosidecar.yaml"
chmod -R a+rX "$work"
"$bin/kitsune" layer build -o "$work/layer.zip" 2>/dev/null
"$bin/kitsune" layer build --policy "$work/nosidecar.yaml" -o "$work/nosidecar.zip" 2>/dev/null
runtimes=(python3.11)
[ -x /usr/bin/node ] && runtimes+=(nodejs20.x)

invoke() {   # RUNTIME SIDE OUT
  local code=$work/fn handler=app.handler
  [ "$1" = nodejs20.x ] && { code=$work/node; handler=index.handler; }
  local args=(--code "$code" --handler "$handler" --runtime "$1" --timeout 10)
  case $2 in
    wrapper)  args+=(--layer "$work/wrapper" --env AWS_LAMBDA_EXEC_WRAPPER=/opt/kitsune/wrapper) ;;
    enforcer) args+=(--layer "$work/nosidecar.zip" --env AWS_LAMBDA_EXEC_WRAPPER=/opt/kitsune/wrapper
                     --env KITSUNE_RUNTIME_RELAY=off --env KITSUNE_INIT_PROFILE=1) ;;
    layer)    args+=(--layer "$work/layer.zip" --env AWS_LAMBDA_EXEC_WRAPPER=/opt/kitsune/wrapper --env KITSUNE_INIT_PROFILE=1) ;;
  esac
  "$bin/kitsune" local invoke "${args[@]}" 2>"$3" >/dev/null
}
loads=()
for rt in "${runtimes[@]}"; do
  for c in $(seq 1 "$cold"); do
    for side in bare wrapper enforcer layer; do invoke "$rt" "$side" "$work/$rt-$side-$c.log"; done
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  done
done
python3 - "$work" "$cold" "$build" "${loads[*]}" "${runtimes[@]}" <<'PY'
import glob, re, statistics, sys
work, cold, build, loads, runtimes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(), sys.argv[5:]
def med(v): return statistics.median(v) if v else float("nan")
print(f"kitsune-bench init-profile: {cold} cold starts per side, sides alternated, {build} build; "
      f"load average (1 min) during the run {min(map(float, loads)):.1f}–{max(map(float, loads)):.1f}")
for rt in runtimes:
    init, phases, notes = {}, {}, {}
    for side in ("bare", "wrapper", "enforcer", "layer"):
        init[side] = []
        for path in sorted(glob.glob(f"{work}/{rt}-{side}-*.log")):
            last = None
            for line in open(path, errors="replace"):
                m = re.search(r"Init Duration: ([0-9.]+) ms", line)
                if m: init[side].append(float(m.group(1)))
                if line.startswith("kitsune-init-profile: "):
                    words = line.split()
                    kind = words[1]
                    if kind == "notifications":
                        last = dict(w.split("=") for w in words[2:])   # cumulative: keep the log's last line
                        continue
                    for w in words[2:]:
                        k, v = w.split("=")
                        phases.setdefault((side, kind, k), []).append(int(v))
            for k, v in (last or {}).items():
                notes.setdefault((side, "notifications", k), []).append(int(v))
    b, w, e, l = (med(init[s]) for s in ("bare", "wrapper", "enforcer", "layer"))
    print(f"[{rt}] Init Duration median: bare {b:.1f} ms, wrapper {w:.1f}, enforcer {e:.1f}, layer {l:.1f} "
          f"(n={len(init['bare'])}/{len(init['wrapper'])}/{len(init['enforcer'])}/{len(init['layer'])})")
    print(f"[{rt}]   wrapper script (/bin/sh exec \"$@\")        {w - b:+.1f} ms")
    print(f"[{rt}]   enforcer, no sidecar                      {e - b:+.1f} ms")
    print(f"[{rt}]   sidecar: relay + decoy watch               {l - e:+.1f} ms")
    print(f"[{rt}]   layer in all                               {l - b:+.1f} ms")
    for side in ("enforcer", "layer"):
        for kind in ("parent", "child"):
            marks = [(k, med(v)) for (s, kd, k), v in phases.items() if s == side and kd == kind]
            if marks:
                print(f"[{rt}]   {side} {kind} phases, µs since the enforcer started (median): "
                      + " ".join(f"{k}={v:.0f}" for k, v in marks))
        counts = [(k, med(v)) for (s, kd, k), v in notes.items() if s == side]
        if counts:
            print(f"[{rt}]   {side} seccomp notifications per cold start (median): " + " ".join(f"{k}={v:.0f}" for k, v in counts))
PY
