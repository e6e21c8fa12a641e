#!/usr/bin/env python3
"""Server-side time of the dashboard's pages: the HTML and every API call the page makes, each timed
from request to last byte on loopback (keep-alive off), RUNS times.
usage: serve.py BASE ADMIN_TOKEN RUNS → JSON {page: {calls: {path: p50/p95}, page_p50_ms, page_p95_ms}}
A page's figure is the sum of its calls (what it costs serially; the browser runs them in parallel)."""
import http.client, json, statistics, sys, time, urllib.parse

base, token, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urllib.parse.urlparse(base)
A = "&action=blocked&action=reported&since=24h"
pages = {
    "overview": ["/", "/assets/app.js", "/api/v1/session", "/api/v1/events/stats?group_by=hour&limit=48" + A,
                 "/api/v1/events/stats?group_by=reason&limit=8" + A, "/api/v1/events/stats?group_by=function&limit=8" + A,
                 "/api/v1/enforcers", "/api/v1/functions"],
    "events": ["/events", "/assets/events.js", "/api/v1/session", "/api/v1/events?limit=100", "/api/v1/events?limit=100&function=checkout"],
}
def timed(path):
    c = http.client.HTTPConnection(host.hostname, host.port)
    t = time.perf_counter()
    c.request("GET", path, headers={"Authorization": "Bearer " + token} if path.startswith("/api/") and path != "/api/v1/session" else {"Cookie": cookie})
    r = c.getresponse(); r.read()
    c.close()
    return (time.perf_counter() - t) * 1000, r.status

c = http.client.HTTPConnection(host.hostname, host.port)
c.request("POST", "/api/v1/session", body=json.dumps({"token": token}), headers={"Content-Type": "application/json"})
r = c.getresponse(); r.read()
cookie = r.getheader("Set-Cookie").split(";")[0]
out = {}
for page, calls in pages.items():
    per = {p: [] for p in calls}
    totals = []
    for _ in range(runs):
        total = 0
        for p in calls:
            ms, status = timed(p)
            if status == 404 and p == "/api/v1/functions": continue   # this server has no inventory yet
            per[p].append(ms); total += ms
        totals.append(total)
    q = lambda v: (round(statistics.median(v), 1), round(sorted(v)[max(0, int(len(v) * 0.95) - 1)], 1)) if v else (0, 0)
    out[page] = {"calls": {p: "p50 %.1f / p95 %.1f ms" % q(v) for p, v in per.items() if v},
                 "page_p50_ms": q(totals)[0], "page_p95_ms": q(totals)[1]}
print(json.dumps(out))
