"""A stand-in Lambda runtime for the learn-mode tests: for each invocation from the Runtime API in
AWS_LAMBDA_RUNTIME_API it runs each program of its plan (argv[1]: invocations separated by `;`,
programs by `,`), prints `REQUEST <id>` and what the programs printed, and posts a response. It stops
at the first /next that is not 200."""
import http.client
import os
import subprocess
import sys

plan = [[p for p in inv.split(",") if p] for inv in sys.argv[1].split(";")]
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port), timeout=20)
for programs in plan:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        break
    request_id = r.getheader("Lambda-Runtime-Aws-Request-Id")
    print("REQUEST", request_id, flush=True)
    for p in programs:
        out = subprocess.run([p], capture_output=True, text=True)
        print(out.stdout.strip(), out.returncode, flush=True)
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % request_id, body=b'"ok"')
    r = conn.getresponse()
    r.read()
