#!/usr/bin/env bash
# What the enforcer adds to containers, measured side by side in one run (release builds, as root,
# runc + umoci + busybox-static from scripts/setup). Prints ratios.
#   bench/container.sh [RUNS]
# 1. container start-up (runc run of /bin/true) for images of 500 and 5 000 executables, bare vs
#    protected by `kitsune image protect` (the executables live outside the system roots: one
#    Landlock rule each, the worst case);
# 2. fork+exec inside a container (1 000 execs of /bin/true from busybox sh), bare vs protected;
# 3. `kitsune image protect` of an image of about 500 MB of real binaries and libraries, against
#    `umoci unpack` of the same image.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
[ "$(id -u)" -eq 0 ] || { echo "bench/container.sh: needs root (runc)" >&2; exit 2; }
if [ -z "${KITSUNE_BUILD_DIR:-}" ]; then
  swift build -c release --product kitsune >/dev/null
  swift build -c release --product kitsune-enforcer >/dev/null
  bin=$(swift build -c release --show-bin-path)
else
  bin=$KITSUNE_BUILD_DIR
fi
work=$(mktemp -d)
trap 'for c in $(runc list -q 2>/dev/null | grep "^kb-"); do runc delete -f "$c" >/dev/null 2>&1; done; rm -rf "$work"' EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# image NAME COUNT CMD...: busybox root file system with COUNT distinct executables in /opt/app/bin.
image() {
  local name=$1 count=$2; shift 2
  umoci init --layout "$work/$name" && umoci new --image "$work/$name:base"
  umoci unpack --image "$work/$name:base" "$work/$name-b" >/dev/null
  local r="$work/$name-b/rootfs"
  mkdir -p "$r/bin" "$r/tmp" "$r/opt/app/bin" "$r/proc" "$r/sys" "$r/dev"
  cp /bin/busybox "$r/bin/busybox"
  for a in sh true echo; do ln -s busybox "$r/bin/$a"; done
  for i in $(seq 1 "$count"); do printf '#!/bin/sh\necho tool %s\n' "$i" > "$r/opt/app/bin/tool$i"; done
  chmod 755 "$r"/opt/app/bin/* 2>/dev/null || true
  umoci repack --image "$work/$name:base" "$work/$name-b" >/dev/null
  local cfg=(umoci config --image "$work/$name:base")
  for c in "$@"; do cfg+=(--config.cmd "$c"); done
  "${cfg[@]}"
  rm -rf "$work/$name-b"
}

bundle() {   # LAYOUT ID: unpacked bundle without a terminal
  umoci unpack --image "$1:base" "$work/$2" >/dev/null
  python3 - "$work/$2/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"))
PY
}

runtime() {  # BUNDLE: milliseconds of one `runc run` (µs resolution)
  local t0 t1
  t0=$(now); runc run -b "$work/$1" "kb-$1" >/dev/null 2>&1 || true; t1=$(now)
  runc delete -f "kb-$1" >/dev/null 2>&1 || true
  echo $(( (t1 - t0) / 1000 ))
}

echo "kitsune container bench: $(uname -r), runc $(runc --version | head -1 | awk '{print $3}'), $runs runs each (median)"
for n in 500 5000; do
  image "img$n" "$n" /bin/true >/dev/null
  "$bin/kitsune" image protect "$work/img$n" -o "$work/prot$n" 2>/dev/null
  bundle "$work/img$n" "bare$n"; bundle "$work/prot$n" "prot$n"
  runtime "bare$n" >/dev/null; runtime "prot$n" >/dev/null          # warm caches
  : > "$work/b"; : > "$work/p"
  for _ in $(seq 1 "$runs"); do runtime "bare$n" >> "$work/b"; runtime "prot$n" >> "$work/p"; done
  b=$(median < "$work/b"); p=$(median < "$work/p")
  awk -v n="$n" -v b="$b" -v p="$p" 'BEGIN { printf "start-up, %5d executables: bare %.1f ms, protected %.1f ms, +%.1f ms, ratio %.2f\n", n, b/1000, p/1000, (p-b)/1000, p/b }'
done

loop='i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done'
image "loop" 10 /bin/sh -c "$loop" >/dev/null
"$bin/kitsune" image protect "$work/loop" -o "$work/loopp" 2>/dev/null
bundle "$work/loop" "bareloop"; bundle "$work/loopp" "protloop"
: > "$work/b"; : > "$work/p"
for _ in 1 2 3; do runtime "bareloop" >> "$work/b"; runtime "protloop" >> "$work/p"; done
b=$(median < "$work/b"); p=$(median < "$work/p")
awk -v b="$b" -v p="$p" 'BEGIN { printf "fork+exec in a container (1000 × /bin/true): bare %.0f µs/exec, protected %.0f µs/exec, ratio %.2f\n", b/1000, p/1000, p/b }'

# ~500 MB of real ELF objects from the host.
umoci init --layout "$work/big" && umoci new --image "$work/big:base"
umoci unpack --image "$work/big:base" "$work/big-b" >/dev/null
mkdir -p "$work/big-b/rootfs/usr/lib/bench" "$work/big-b/rootfs/bin"
cp /bin/busybox "$work/big-b/rootfs/bin/busybox"; ln -s busybox "$work/big-b/rootfs/bin/sh"
total=0
while IFS= read -r f; do
  s=$(stat -c %s "$f"); cp "$f" "$work/big-b/rootfs/usr/lib/bench/"; total=$((total + s))
  [ "$total" -lt $((500 << 20)) ] || break
done < <(find /usr/lib/x86_64-linux-gnu /usr/bin -maxdepth 2 -type f -size +64k 2>/dev/null | sort)
umoci repack --image "$work/big:base" "$work/big-b" >/dev/null
umoci config --image "$work/big:base" --config.cmd /bin/sh
rm -rf "$work/big-b"
t0=$(now); umoci unpack --image "$work/big:base" "$work/big-u" >/dev/null; t1=$(now); rm -rf "$work/big-u"
t2=$(now); "$bin/kitsune" image protect "$work/big" -o "$work/big-p" 2>"$work/protect.log"; t3=$(now)
exes=$(grep -o '[0-9]* executables' "$work/protect.log" | head -1)
awk -v mb=$((total >> 20)) -v u=$(( (t1 - t0) / 1000000 )) -v p=$(( (t3 - t2) / 1000000 )) -v e="$exes" \
  'BEGIN { printf "image protect, %d MB image (%s): %.2f s (%.0f MB/s); umoci unpack of the same image %.2f s; ratio %.2f\n", mb, e, p/1000, mb/(p/1000), u/1000, p/u }'
