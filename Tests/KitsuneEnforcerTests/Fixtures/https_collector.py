#!/usr/bin/env python3
"""HTTPS event collector for ShipTests: listens on 127.0.0.1, port 0, and prints the port.

usage: https_collector.py CERT KEY LOG MODE
  MODE  an HTTP status to answer every POST with (e.g. 200, 500);
        `hang`: complete the TLS handshake, read the request, record it, never answer;
        `silent`: accept TCP connections and never speak (no TLS handshake).
Each POST is appended to LOG as one JSON line: path, host, authorization, user_agent, content_type, body.
"""
import http.server
import json
import socket
import ssl
import sys
import threading
import time

cert, key, log, mode = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        record = {
            "path": self.path,
            "host": self.headers.get("Host"),
            "authorization": self.headers.get("Authorization"),
            "user_agent": self.headers.get("User-Agent"),
            "content_type": self.headers.get("Content-Type"),
            "connection": self.headers.get("Connection"),
            "body": body.decode("utf-8", "replace"),
        }
        with open(log, "a") as f:
            f.write(json.dumps(record) + "\n")
        if mode == "hang":
            time.sleep(3600)
            return
        self.send_response(int(mode))
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    def log_message(self, *args):
        pass


if mode == "silent":
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    held = []
    while True:
        held.append(listener.accept()[0])

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
