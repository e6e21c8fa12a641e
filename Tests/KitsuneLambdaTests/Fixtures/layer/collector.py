"""An events collector for tests: accepts POSTed JSON batches on 127.0.0.1 (port printed on the first
line of stdout) and appends one JSON line per batch to the file named by argv[1]:
{"received": <unix time>, "authorization": <header>, "batch": <X-Kitsune-Batch>, "events": [...]}.
With argv[2] and argv[3] (a certificate and its key) it speaks HTTPS."""
import http.server
import json
import ssl
import sys
import time


class Collector(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record = {"received": time.time(), "authorization": self.headers.get("Authorization"),
                  "content_type": self.headers.get("Content-Type"), "batch": self.headers.get("X-Kitsune-Batch"),
                  "events": json.loads(body)}
        with open(sys.argv[1], "a") as out:
            out.write(json.dumps(record) + "\n")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
if len(sys.argv) > 3:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
