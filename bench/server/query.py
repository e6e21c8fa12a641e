"""Times filtered queries (N each) and prints p50/p95 in ms per query."""
import http.client, json, sys, time
host, port, token, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
queries = {
    "list newest": "/api/v1/events?limit=100",
    "list function": "/api/v1/events?function=checkout&limit=100",
    "list function+reason": "/api/v1/events?function=api&reason=honeypot&limit=100",
    "list request_id": "/api/v1/events?request_id=r-00000001-1234",
    "list since 1h": "/api/v1/events?since=1h&limit=100",
    "list q (text)": "/api/v1/events?q=m4242&limit=100",
    "list q (rare, function)": "/api/v1/events?q=m12345+%26%26&function=api&limit=100",
    "list q (common)": "/api/v1/events?q=curl+-o&limit=100",
    "stats q (text)": "/api/v1/events/stats?group_by=function&q=m4242",
    "stats reason 24h": "/api/v1/events/stats?group_by=reason&since=24h",
    "stats function+reason": "/api/v1/events/stats?group_by=hour&function=api&reason=drift",
    "stats reason (all)": "/api/v1/events/stats?group_by=reason",
}
conn = http.client.HTTPConnection(host, port)
out = {}
for name, path in queries.items():
    times = []
    for _ in range(n):
        start = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": "Bearer " + token}); r = conn.getresponse(); r.read()
        times.append((time.perf_counter() - start) * 1000)
        assert r.status == 200, (path, r.status)
    times.sort()
    out[name] = {"p50_ms": round(times[len(times) // 2], 1), "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1)}
print(json.dumps(out, indent=1))
