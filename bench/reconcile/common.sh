# Shared by bench/reconcile.sh and bench/agent.sh: sourced, not run. Needs $bench_name and $count;
# checks moto, picks the kitsune binary (KITSUNE_BIN or a release build with the enforcer and
# shipper), makes $work (removed on exit with the server and moto), starts moto's server on a free
# loopback port ($moto_port).
python3 -c 'import moto, boto3' 2>/dev/null || { echo "$bench_name: needs pip 'moto[server]' boto3 (scripts/setup installs them)" >&2; exit 2; }
if [ -n "${KITSUNE_BIN:-}" ]; then kitsune=$KITSUNE_BIN; else
  { swift build -c release --product kitsune && swift build -c release --product kitsune-enforcer && swift build -c release --product kitsune-ship; } >/dev/null 2>&1 || { echo "$bench_name: the release build failed (run swift build -c release)" >&2; exit 1; }
  kitsune="$(swift build -c release --show-bin-path)/kitsune"
fi
work=$(mktemp -d "/tmp/kitsune-$(basename "$bench_name" .sh)-XXXXXX")
server_pid=""; moto_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$moto_pid" ] || kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

moto_port=$(free_port)
python3 -m moto.server -H 127.0.0.1 -p "$moto_port" > "$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$moto_port/moto-api/" >/dev/null && break; sleep 0.2; done
