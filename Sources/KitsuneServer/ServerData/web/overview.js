"use strict";
// Overview: what is protected, what happened in the last 24 hours, and what in the fleet needs a look.
(function (K) {
  var h = K.h;
  var ATTEMPTS = { action: ["blocked", "reported"] };

  K.pages.overview = function (main) {
    main.appendChild(h("h1", "Overview"));
    var kpis = h("div.kpis");
    var grid = h("div.grid");
    main.appendChild(kpis);
    main.appendChild(grid);
    var chartPanel = h("section.panel.wide", { "aria-labelledby": "h-chart" }, h("h2", { id: "h-chart" }, "Blocked and reported events, last 24 hours (per hour)"), h("p.muted", "Loading…"));
    var reasons = h("section.panel", { "aria-labelledby": "h-reasons" }, h("h2", { id: "h-reasons" }, "Top reasons (24 h)"));
    var functions = h("section.panel", { "aria-labelledby": "h-functions" }, h("h2", { id: "h-functions" }, "Top functions (24 h)"));
    var coverage = h("section.panel.wide", { "aria-labelledby": "h-coverage" }, h("h2", { id: "h-coverage" }, "Protection by account and region"));
    var health = h("section.panel.wide", { "aria-labelledby": "h-health" }, h("h2", { id: "h-health" }, "Fleet health"));
    [chartPanel, reasons, functions, coverage, health].forEach(function (p) { grid.appendChild(p); });

    var since = "24h";
    var stats = function (by, limit) { return K.get("/events/stats", Object.assign({ group_by: by, since: since, limit: limit }, ATTEMPTS)); };
    var fail = function (panel) { return function (e) { panel.appendChild(K.error(e)); }; };

    stats("hour", 48).then(function (r) {
      K.clear(chartPanel).appendChild(h("h2", { id: "h-chart" }, "Blocked and reported events, last 24 hours (per hour): " + r.total));
      chartPanel.appendChild(K.hourChart(r.buckets, 24, function (hour) {
        K.go("/events", { since: new Date(hour * 3600000).toISOString(), until: new Date((hour + 1) * 3600000).toISOString() });
      }));
    }, fail(chartPanel));
    stats("reason", 8).then(function (r) {
      kpis.appendChild(kpi("Attempts blocked or reported (24 h)", r.total, r.total ? "bad" : "ok", K.url("/events", Object.assign({ since: since }, ATTEMPTS))));
      reasons.appendChild(K.bars(r.buckets, { path: "/events", params: function (k) { return Object.assign({ reason: k, since: since }, ATTEMPTS); } }));
    }, fail(reasons));
    stats("function", 8).then(function (r) {
      functions.appendChild(K.bars(r.buckets, { path: "/events", params: function (k) { return Object.assign({ function: k, since: since }, ATTEMPTS); } }));
    }, fail(functions));

    Promise.all([
      K.get("/enforcers"),
      K.get("/functions").catch(function (e) { if (K.notAvailable(e)) return null; throw e; }),
    ]).then(function (results) {
      var fleet = results[0].enforcers, inventory = results[1] && results[1].functions;
      var active = fleet.filter(function (f) { return f.status === "active"; }).length;
      kpis.appendChild(kpi("Functions reporting", active, active ? "ok" : "warn", "/functions"));
      kpis.appendChild(kpi("Stale enforcers", fleet.length - active, fleet.length - active ? "warn" : "ok", "/functions"));
      if (inventory) {
        var unprotected = inventory.filter(function (f) { return f.deployment && f.deployment.status !== "protected"; }).length;
        kpis.appendChild(kpi("Functions not protected", unprotected, unprotected ? "bad" : "ok", "/functions"));
      }
      renderCoverage(coverage, fleet, inventory);
      renderHealth(health, fleet, inventory);
    }, fail(coverage));
  };

  function kpi(label, n, tone, href) {
    return h("a.kpi." + tone, { href: href, "data-nav": "" }, h("div.n", String(n)), h("div.muted", label));
  }

  // Protected vs not, by account and region: the inventory when this server has one, else the fleet.
  function renderCoverage(panel, fleet, inventory) {
    var rows = new Map();
    function row(account, region) {
      var k = (account || "") + "|" + (region || "");
      if (!rows.has(k)) rows.set(k, { account: account, region: region, protected: 0, unprotected: 0, failed: 0, active: 0, stale: 0 });
      return rows.get(k);
    }
    (inventory || []).forEach(function (f) {
      var r = row(f.account_id, f.region), s = f.deployment && f.deployment.status;
      if (s === "protected") r.protected++; else if (s === "failed" || s === "retrying") r.failed++; else r.unprotected++;
    });
    fleet.forEach(function (f) { var r = row(f.account_id, f.region); if (f.status === "active") r.active++; else r.stale++; });
    if (!rows.size) { panel.appendChild(K.empty("No function has reported yet.", "Create an enforcer group (Enforcers & tokens) and give its token to the Kitsune layer.")); return; }
    var cols = [
      { title: "Account", cell: function (r) { return r.account ? K.link(r.account, "/functions", { account: r.account }) : h("span.muted", "unknown"); } },
      { title: "Region", cell: function (r) { return r.region || "—"; } },
    ];
    if (inventory) cols.push(
      { title: "Protected", cell: function (r) { return h("span.badge.ok", String(r.protected)); } },
      { title: "Not protected", cell: function (r) { return h("span.badge" + (r.unprotected ? ".bad" : ""), String(r.unprotected)); } },
      { title: "Deployment failed", cell: function (r) { return h("span.badge" + (r.failed ? ".bad" : ""), String(r.failed)); } });
    cols.push(
      { title: "Enforcers reporting", cell: function (r) { return String(r.active); } },
      { title: "Stale", cell: function (r) { return r.stale ? h("span.badge.stale", String(r.stale)) : "0"; } });
    panel.appendChild(K.table(cols, Array.from(rows.values())));
    if (!inventory) panel.appendChild(h("p.muted", "From the enforcers that report. This server has no function inventory (GET /api/v1/functions), so functions that never reported are not counted."));
  }

  // Controls off (not_enforced), stale enforcers, failed deployments.
  function renderHealth(panel, fleet, inventory) {
    var off = new Map();
    fleet.forEach(function (f) {
      (f.not_enforced || []).forEach(function (c) {
        if (!off.has(c)) off.set(c, []);
        off.get(c).push(f.function_name);
      });
    });
    var items = [];
    Array.from(off.keys()).sort().forEach(function (c) {
      var fns = off.get(c);
      items.push(h("li", h("strong", { text: c, max: 64 }), " is not enforced on " + fns.length + " function" + (fns.length === 1 ? "" : "s") + ": ",
        fns.slice(0, 8).map(function (n, i) { return [i ? ", " : "", K.link(n, "/functions", { function: n })]; }), fns.length > 8 ? " …" : ""));
    });
    fleet.filter(function (f) { return f.status === "stale"; }).forEach(function (f) {
      items.push(h("li", h("span.badge.stale", "stale"), " ", K.link(f.function_name, "/events", { function: f.function_name }), " last heard from ", K.timeEl(f.last_seen)));
    });
    (inventory || []).filter(function (f) { return f.deployment && f.deployment.status === "failed"; }).forEach(function (f) {
      items.push(h("li", h("span.badge.bad", "deployment failed"), " ", K.link(f.name, "/functions", { function: f.name }), ": ", h("span", { text: f.deployment.detail || "", max: 300 })));
    });
    if (!items.length) panel.appendChild(K.empty("Every reporting enforcer runs with all its controls, and none is stale."));
    else panel.appendChild(h("ul", items));
  }
})(window.K);
