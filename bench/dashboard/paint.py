#!/usr/bin/env python3
"""First meaningful paint of the dashboard's overview and events pages in headless chromium.
usage: paint.py BASE ADMIN_TOKEN RUNS → JSON {page: {fcp_p50_ms, meaningful_p50_ms, meaningful_max_ms}}
"Meaningful": the page's data is on screen (overview: the SVG chart's bars; events: the first table
row), measured from navigation start by a MutationObserver installed before the page's scripts."""
import json, statistics, sys, urllib.request
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

base, token, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
req = urllib.request.Request(base + "/api/v1/session", data=json.dumps({"token": token}).encode(), method="POST",
                             headers={"Content-Type": "application/json"})
cookie = urllib.request.urlopen(req).headers["Set-Cookie"].split(";")[0].split("=", 1)

o = webdriver.ChromeOptions()
o.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"]:
    o.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
d.get(base + "/healthz")
d.add_cookie({"name": cookie[0], "value": cookie[1], "path": "/", "httpOnly": True, "sameSite": "Strict"})
d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
  window.__meaningful = null;
  new MutationObserver(function () {
    if (window.__meaningful === null && document.querySelector(window.__want || 'svg.chart rect.b, main tbody tr'))
      window.__meaningful = performance.now();
  }).observe(document, {subtree: true, childList: true});"""})
out = {}
for page, path in [("overview", "/"), ("events", "/events")]:
    fcp, meaningful = [], []
    for i in range(runs + 1):
        d.get(base + path)
        WebDriverWait(d, 30).until(lambda x: x.execute_script("return window.__meaningful !== null"))
        if i == 0: continue   # the first load warms the page's files
        meaningful.append(d.execute_script("return window.__meaningful"))
        fcp.append(d.execute_script("var e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null") or 0)
    out[page] = {"fcp_p50_ms": round(statistics.median(fcp), 1), "meaningful_p50_ms": round(statistics.median(meaningful), 1),
                 "meaningful_max_ms": round(max(meaningful), 1)}
d.quit()
print(json.dumps(out))
