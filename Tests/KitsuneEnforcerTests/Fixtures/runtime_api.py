#!/usr/bin/env python3
"""A minimal Lambda Runtime API on 127.0.0.1 (port 0, printed on the first line), for the enforcer's
learn-mode tests: it hands out COUNT invocations with request ids req-1 … req-COUNT, accepts their
responses, and answers any later /next with 410 so the runtime stops. Bounded: it exits by itself
after SECONDS.

usage: runtime_api.py COUNT SECONDS
"""
import http.server
import sys
import threading

count, seconds = int(sys.argv[1]), float(sys.argv[2])
lock = threading.Lock()
given = [0]
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:learn-test"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self.answer(404)
        with lock:
            given[0] += 1
            n = given[0]
        if n > count:
            return self.answer(410, b'{"errorMessage":"no more invocations"}')
        self.answer(200, b'{"n":%d}' % n, [("Lambda-Runtime-Aws-Request-Id", "req-%d" % n),
                                            ("Lambda-Runtime-Deadline-Ms", "9999999999999"),
                                            ("Lambda-Runtime-Invoked-Function-Arn", ARN),
                                            ("Content-Type", "application/json")])

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer(202, b'{"status":"OK"}')

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(seconds, server.shutdown).start()
server.serve_forever()
