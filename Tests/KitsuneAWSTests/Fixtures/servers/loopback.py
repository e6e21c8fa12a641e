"""Shared by the test servers here: serve a handler on 127.0.0.1 (an ephemeral port), print
"READY <port>", and stop when standard input closes (the test process went away)."""
import sys
import threading
from http.server import ThreadingHTTPServer


def serve_until_stdin_closes(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()
