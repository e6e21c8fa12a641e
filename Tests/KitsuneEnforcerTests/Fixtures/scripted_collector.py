#!/usr/bin/env python3
"""Plain-HTTP (or, with CERT KEY, HTTPS) event collector with scripted answers, for the shipper tests:
listens on 127.0.0.1, port 0, and prints the port.

usage: scripted_collector.py LOG ANSWERS [CERT KEY]
  ANSWERS  comma-separated, one per POST (the last one repeats): STATUS[:RETRY_AFTER[:BODY]],
           e.g. "400::bad event at index 0: field time,429:1,202".
           A body `long` is 300 bytes of 'x' (to check it is cut at 200).
Each POST is appended to LOG as one JSON line: path, batch (X-Kitsune-Batch), authorization, body,
received (unix time), answered (the status sent).
"""
import http.server
import json
import ssl
import sys
import threading
import time

log, answers = sys.argv[1], sys.argv[2].split(",")
lock = threading.Lock()
count = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            answer = answers[min(count[0], len(answers) - 1)]
            count[0] += 1
        status, retry, text = (answer.split(":", 2) + ["", ""])[:3]
        if text == "long":
            text = "x" * 300
        record = {"path": self.path, "batch": self.headers.get("X-Kitsune-Batch"),
                  "authorization": self.headers.get("Authorization"), "body": body.decode("utf-8", "replace"),
                  "received": time.time(), "answered": int(status)}
        with open(log, "a") as f:
            f.write(json.dumps(record) + "\n")
        data = text.encode()
        self.send_response(int(status))
        if retry:
            self.send_header("Retry-After", retry)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if len(sys.argv) > 4:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
