# Test function for the Kitsune Lambda emulator: one handler, behaviour chosen by event["action"].
import json
import os
import re
import socket
import subprocess
import threading
import time

count = 0


def _try_write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "ok"
    except OSError as e:
        return e.strerror


def _exchange(raw, expect=1):
    """Sends raw bytes to the Runtime API and returns the status codes of `expect` responses."""
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(raw)
        data = b""
        statuses = []
        while len(statuses) < expect:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
        return statuses


def _probe_http():
    base = "/2018-06-01/runtime/"
    return {
        "pipelined": _exchange(f"GET {base}nope HTTP/1.1\r\nHost: x\r\n\r\nGET /other HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 2),
        "tooLarge": _exchange(f"POST {base}invocation/someone-else/response HTTP/1.1\r\nContent-Length: 7000000\r\n\r\n".encode()),
        "hugeHeader": _exchange(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"),
        "http2": _exchange(b"GET / HTTP/2.0\r\n\r\n"),
        "badChunk": _exchange(f"POST {base}init/error HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".encode()),
        "initErrorLate": _exchange(f"POST {base}init/error HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}".encode()),
        "extensionUnknown": _exchange(b"GET /2020-01-01/extension/event/next HTTP/1.1\r\nLambda-Extension-Identifier: nope\r\n\r\n"),
        "registerLate": _exchange(b"POST /2020-01-01/extension/register HTTP/1.1\r\nLambda-Extension-Name: late\r\nContent-Length: 20\r\n\r\n{\"events\":[\"INVOKE\"]}"),
    }


def handler(event, context):
    global count
    count += 1
    action = event.get("action", "info") if isinstance(event, dict) else "info"
    print(f"app.py invocation {count} action={action}")
    if action == "info":
        status = open("/proc/self/status").read()
        no_new_privs = [l.split()[1] for l in status.splitlines() if l.startswith("NoNewPrivs:")]
        blocked = [l.split()[1] for l in status.splitlines() if l.startswith("SigBlk:")]
        env = {k: v for k, v in os.environ.items()}
        return {"count": count, "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(),
                "requestId": context.aws_request_id, "arn": context.invoked_function_arn,
                "remainingMs": context.get_remaining_time_in_millis(), "noNewPrivs": no_new_privs[0] if no_new_privs else None,
                "blockedSignals": blocked[0] if blocked else None,
                "env": env, "event": event}
    if action == "fs":
        previous = open("/tmp/counter").read() if os.path.exists("/tmp/counter") else ""
        with open("/tmp/counter", "a") as f:
            f.write("i")
        return {"task": _try_write("/var/task/new-file"), "opt": _try_write("/opt/new-file"),
                "tmp": _try_write("/tmp/new-file"), "previous": previous,
                "taskFiles": sorted(os.listdir("/var/task")), "optFiles": sorted(os.listdir("/opt"))}
    if action == "error":
        raise ValueError("the event asked for an error")
    if action == "sleep":
        time.sleep(event.get("seconds", 30))
        return {"slept": True}
    if action == "spawn-and-hang":
        # A grandchild in its own session: it must still be killed on timeout.
        subprocess.Popen(["/bin/sleep", "300"], start_new_session=True)
        time.sleep(60)
    if action == "crash":
        os._exit(3)
    if action == "ticker":
        # A background thread that keeps writing after the response (Lambda freezes it).
        def tick():
            while True:
                with open("/tmp/ticks", "a") as f:
                    f.write(".")
                time.sleep(0.005)
        threading.Thread(target=tick, daemon=True).start()
        return {"ticker": "started"}
    if action == "probe-http":
        return _probe_http()
    if action == "hog":
        hog = []
        for _ in range(event.get("megabytes", 512)):
            hog.append(bytearray(1024 * 1024))
        return {"allocated": len(hog)}
    if action == "big":
        return "x" * (7 * 1024 * 1024)
    return {"unknown": action}
