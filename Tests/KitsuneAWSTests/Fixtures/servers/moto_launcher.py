#!/usr/bin/env python3
"""Starts moto's server mode on 127.0.0.1 with a free port for the KitsuneAWS tests.
Prints "READY <port>" once moto answers, then serves until its stdin is closed (the test
process exited or stopped it), so no moto is left behind."""
import socket, sys, time, urllib.request

try:
    from moto.server import ThreadedMotoServer
except Exception as error:  # noqa: BLE001
    print(f"ERROR moto server mode is not installed ({error}); install it with: pip install 'moto[server]'", flush=True)
    sys.exit(3)

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
for _ in range(400):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2)
        break
    except Exception:  # noqa: BLE001
        time.sleep(0.05)
else:
    print("ERROR moto did not become ready", flush=True)
    sys.exit(4)
print(f"READY {port}", flush=True)
try:
    sys.stdin.read()
finally:
    server.stop()
