"use strict";
// The page's router (real paths, history API), the login form, the header.
(function (K) {
  var h = K.h;
  var routes = { "/": "overview", "/events": "events", "/incidents": "incidents", "/functions": "functions", "/policies": "policies",
    "/groups": "groups", "/alerts": "alerts", "/audit": "audit", "/login": "login" };
  var timers = [];

  // Runs fn every ms while the current page is shown.
  K.every = function (ms, fn) {
    var busy = false;
    timers.push(setInterval(function () { if (busy || document.hidden) return; busy = true; Promise.resolve(fn()).finally(function () { busy = false; }); }, ms));
  };

  K.go = function (path, params) {
    var url = K.url(path, params);
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
    render();
  };
  K.pages.reload = function () { render(); };

  function render() {
    timers.forEach(clearInterval);
    timers = [];
    var page = routes[location.pathname] || "overview";
    if (!K.session && page !== "login") { loadSession().then(function () { K.session ? render() : K.go("/login", { next: location.pathname + location.search }); }); return; }
    var main = K.clear(document.getElementById("main"));
    document.getElementById("top").hidden = page === "login";
    Array.prototype.forEach.call(document.querySelectorAll("#nav a"), function (a) {
      if (a.getAttribute("href") === location.pathname) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    document.title = (page === "overview" ? "Overview" : page[0].toUpperCase() + page.slice(1)) + " — Kitsune";
    try { K.pages[page](main); } catch (e) { main.appendChild(K.error(e)); }
    if (page !== "login") main.focus({ preventScroll: true });
  }

  function loadSession() {
    return K.api("GET", "/session").then(function (s) { setSession(s); }, function () { K.session = null; });
  }
  function setSession(s) {
    K.session = s;
    var who = K.clear(document.getElementById("whoami"));
    if (s) who.appendChild(h("span", h("span", { text: s.name, max: 60 }), " ", h("span.role", { id: "role" }, s.role)));
  }

  K.pages.login = function (main) {
    var next = new URLSearchParams(location.search).get("next");
    if (!next || !/^\/(?!\/)/.test(next)) next = "/";
    var input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, placeholder: "kit_…", "aria-describedby": "token-help" });
    var err = h("div");
    var form = h("form.panel.login", { id: "login", on: { submit: function (ev) {
      ev.preventDefault();
      K.clear(err);
      K.api("POST", "/session", { json: { token: input.value.trim() } }).then(function (s) {
        input.value = "";
        setSession(s);
        history.replaceState(null, "", K.safeHref(next));
        render();
      }, function (e) { err.appendChild(K.error(e.status === 401 ? { message: "That token is not a live API token. Enforcer group tokens cannot log in." } : e)); input.focus(); });
    } } },
      h("h1", "Kitsune"),
      h("p", "Log in with an API token. The token is exchanged for a session cookie and is not kept in this browser."),
      h("label", { for: "token" }, "API token"), input,
      h("p.muted", { id: "token-help" }, "Create one with: kitsune server token create --role viewer --name you"),
      err,
      h("div.row", h("span.spacer"), h("button.primary", { type: "submit", id: "login-submit" }, "Log in")));
    main.appendChild(form);
    input.focus();
  };

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-nav]");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
    var href = a.getAttribute("href");
    if (!href || href === "#" || href.indexOf("/api/") === 0) return;
    ev.preventDefault();
    history.pushState(null, "", href);
    render();
  });
  window.addEventListener("popstate", render);

  document.addEventListener("DOMContentLoaded", function () {
    var tz = document.getElementById("tz");
    tz.textContent = K.utc ? "Times: UTC" : "Times: local";
    tz.addEventListener("click", function () {
      K.utc = !K.utc;
      localStorage.setItem("kitsune.tz", K.utc ? "utc" : "local");
      tz.textContent = K.utc ? "Times: UTC" : "Times: local";
      render();
    });
    document.getElementById("logout").addEventListener("click", function () {
      K.api("DELETE", "/session").finally(function () { K.session = null; setSession(null); K.go("/login", {}); });
    });
    // Keyboard: g then o/e/i/f/p/t/a/l jumps to a page; / focuses the first filter.
    var pending = false;
    document.addEventListener("keydown", function (ev) {
      if (/INPUT|TEXTAREA|SELECT/.test(ev.target.tagName) || ev.ctrlKey || ev.metaKey || ev.altKey || !K.session) return;
      if (ev.key === "/") { var f = document.querySelector(".filters input"); if (f) { ev.preventDefault(); f.focus(); } return; }
      if (pending) {
        pending = false;
        var to = { o: "/", e: "/events", i: "/incidents", f: "/functions", p: "/policies", t: "/groups", a: "/alerts", l: "/audit" }[ev.key];
        if (to) K.go(to, {});
        return;
      }
      if (ev.key === "g") pending = true;
    });
    render();
  });
})(window.K);
