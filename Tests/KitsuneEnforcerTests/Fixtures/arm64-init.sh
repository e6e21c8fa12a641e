#!/bin/sh
# /init of scripts/test-arm64's aarch64 guest (busybox sh, PID 1): runs the enforcer's core bypass
# cases in enforce and audit mode and prints outcomes and events between markers for the host to check.
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o mode=1777 tmp /tmp
cat > /usr/bin/kitsune-cases <<'CASES'
#!/bin/sh
# The protected "function": what an attacker who can run commands would try, and what must keep working.
run() {  # name, command...
  name=$1; shift
  out=$("$@" 2>&1); rc=$?
  echo "case $name: $out"
  echo "case $name rc=$rc"
}
cp /usr/bin/payload /tmp/drop && cp /usr/bin/payload-dyn /tmp/drop-dyn && chmod 755 /tmp/drop /tmp/drop-dyn
run system-static /usr/bin/payload
run system-dynamic /usr/bin/payload-dyn
run drop /tmp/drop
run memfd /usr/bin/attack memfd-exec /usr/bin/payload
run arm32 /usr/bin/arm32-hello
case "$1" in
  kernel) exit 0 ;;               # what the kernel alone (Landlock, seccomp) must stop
  layer)                          # the Lambda layer's policy also plants decoy credentials
    run honeypot cat /tmp/backup/.aws/credentials
    sleep 1                       # the sidecar reports the read
    exit 0 ;;
esac
run loader /lib/ld-linux-aarch64.so.1 /tmp/drop-dyn
run execveat /usr/bin/attack execveat-empty /tmp/drop
run mmap-exec /usr/bin/attack mmap-exec /tmp/drop
run listener /usr/bin/attack listener
run personality /usr/bin/attack personality-rie
run tamper /usr/bin/attack kill "$PPID"
# The supervisor's peak resident set after answering all of the above (budget: 1.5 MB).
echo "supervisor $(grep VmHWM /proc/$PPID/status)"
CASES
chmod 755 /usr/bin/kitsune-cases
echo "=== kitsune-arm64 begin"
echo "--- probe begin"
echo "machine $(uname -m) kernel $(uname -r)"
kitsune-enforcer --probe
echo
echo "--- probe end"
for mode in enforce audit; do
  echo "--- $mode begin"
  kitsune-enforcer --mode $mode --events /tmp/events-$mode.jsonl -- /usr/bin/kitsune-cases
  echo "enforcer exit $?"
  cat /tmp/events-$mode.jsonl
  echo "--- $mode end"
done
# Without a supervisor (as on a kernel without user notification): Landlock and the filter alone.
echo "--- kernel begin"
KITSUNE_SIMULATE_MISSING=unotify kitsune-enforcer --mode enforce --events /tmp/events-kernel.jsonl -- /usr/bin/kitsune-cases kernel
echo "enforcer exit $?"
cat /tmp/events-kernel.jsonl
echo "--- kernel end"
# The arm64 Lambda layer built by `kitsune layer build --architecture arm64`, unpacked in /opt as
# Lambda does, started through its wrapper (events on stderr, as in CloudWatch Logs).
echo "--- layer begin"
/opt/kitsune/bin/kitsune-ship --version
/opt/kitsune/wrapper /usr/bin/kitsune-cases layer 2>/tmp/layer-stderr
echo "wrapper exit $?"
grep '^{' /tmp/layer-stderr
echo "--- layer end"
echo "=== kitsune-arm64 end"
sync
poweroff -f
