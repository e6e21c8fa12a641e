"use strict";
// Incidents: what happened to one function in one invocation (request id) or one cold start
// (instance id), oldest first — the injected command, what it tried, what was blocked, the honeypot.
(function (K) {
  var h = K.h;
  function argv(e) { return Array.isArray(e.argv) ? e.argv.map(String).join(" ") : ""; }

  K.pages.incidents = function (main) {
    var params = new URLSearchParams(location.search);
    var request = params.get("request_id"), instance = params.get("instance_id");
    if (request || instance) return timeline(main, request, instance);
    main.appendChild(h("h1", "Incidents"));
    main.appendChild(h("p.muted", "Blocked and reported attempts of the last 7 days, grouped by invocation (request id) or, without one, by cold start (instance)."));
    var list = h("section", h("p.muted", "Loading…"));
    main.appendChild(list);
    K.get("/events", { action: ["blocked", "reported"], since: "7d", limit: 1000 }).then(function (page) {
      var groups = new Map();
      page.events.forEach(function (e) {
        var key = e.request_id ? "r:" + e.request_id : e.instance_id ? "i:" + e.instance_id : null;
        if (!key) return;
        if (!groups.has(key)) groups.set(key, { request: e.request_id, instance: e.instance_id, fn: e.function_name, first: e.time, last: e.time, n: 0, blocked: 0, reasons: new Set(), honeypot: false });
        var g = groups.get(key);
        g.n++; if (e.action === "blocked") g.blocked++;
        if (e.time < g.first) g.first = e.time; if (e.time > g.last) g.last = e.time;
        if (e.reason) g.reasons.add(e.reason);
        if (e.reason === "honeypot") g.honeypot = true;
      });
      K.clear(list);
      if (!groups.size) { list.appendChild(K.empty("No incident in the last 7 days.", "An incident is an invocation or cold start with a blocked or reported attempt.")); return; }
      list.appendChild(K.table([
        { title: "Last attempt", cell: function (g) { return K.timeEl(g.last); } },
        { title: "Function", cell: function (g) { return h("span", { text: g.fn || "—", max: 120 }); } },
        { title: "Invocation", cell: function (g) { return g.request ? K.link("request " + g.request, "/incidents", { request_id: g.request }) : K.link("cold start " + g.instance, "/incidents", { instance_id: g.instance }); } },
        { title: "Attempts", cell: function (g) { return g.n + " (" + g.blocked + " blocked)"; } },
        { title: "Reasons", cell: function (g) { return h("span", [Array.from(g.reasons).map(function (r) { return K.badge(r); }), g.honeypot ? " honeypot touched" : ""]); } },
      ], Array.from(groups.values()), function (g) { K.go("/incidents", g.request ? { request_id: g.request } : { instance_id: g.instance }); }));
      if (page.next_cursor) list.appendChild(h("p.muted", "Showing the incidents among the newest 1000 attempts."));
    }, function (err) { K.clear(list).appendChild(K.error(err)); });
  };

  function timeline(main, request, instance) {
    main.appendChild(h("p", K.link("← All incidents", "/incidents", {})));
    var title = h("h1", request ? "Invocation " : "Cold start ", h("span.mono", { text: request || instance, max: 128 }));
    main.appendChild(title);
    var summary = h("section.panel", h("p.muted", "Loading…"));
    var list = h("section.panel");
    main.appendChild(summary);
    main.appendChild(h("div", { class: "spacer" }));
    main.appendChild(list);
    var detail = h("section");
    main.appendChild(detail);
    K.get("/events", Object.assign({ limit: 1000 }, request ? { request_id: request } : { instance_id: instance })).then(function (page) {
      var events = page.events.slice().reverse();
      var inst = instance || (events.find(function (e) { return e.instance_id; }) || {}).instance_id;
      var started = inst && !events.some(function (e) { return e.action === "started"; })
        ? K.get("/events", { instance_id: inst, action: "started", limit: 1 }).then(function (p) { return p.events[0]; }, function () { return null; })
        : Promise.resolve(null);
      return started.then(function (s) { render(summary, list, detail, s ? [s].concat(events) : events, request); });
    }).catch(function (err) { K.clear(summary).appendChild(K.error(err)); });
  }

  function render(summary, list, detail, events, request) {
    K.clear(summary);
    if (!events.length) { summary.appendChild(K.empty("No event for this " + (request ? "request id." : "instance."))); return; }
    var attempts = events.filter(function (e) { return e.action === "blocked" || e.action === "reported"; });
    var blocked = attempts.filter(function (e) { return e.action === "blocked"; });
    var honey = attempts.filter(function (e) { return e.reason === "honeypot"; });
    var first = attempts[0] || events[0];
    var fn = (events.find(function (e) { return e.function_name; }) || {}).function_name;
    // The injected command: the farthest ancestor of the first attempt below the runtime, else the attempt itself.
    var chain = Array.isArray(first.ancestors) ? first.ancestors : [];
    var injected = chain.length > 1 ? chain[chain.length - 2] : null;
    var kv = h("dl.kv");
    function row(k, v) { kv.appendChild(h("dt", k)); kv.appendChild(h("dd", v)); }
    row("Function", fn ? h("span", K.link(fn, "/functions", { function: fn }), " · ", K.link("its policy", "/policies", { function: fn })) : "—");
    row("From – to", h("span", K.timeEl(events[0].time), " – ", K.timeEl(events[events.length - 1].time)));
    row("Attempts", attempts.length + " (" + blocked.length + " blocked, " + (attempts.length - blocked.length) + " reported only)");
    if (injected) row("Started from", h("span.mono", { text: Array.isArray(injected.argv) && injected.argv.length ? injected.argv.join(" ") : injected.executable || "?", max: 600 }));
    row("First attempt", h("span.mono", { text: (first.executable || first.file || "?") + "  " + argv(first), max: 600 }));
    row("Honeypot", honey.length ? h("strong", { text: "touched: " + honey.map(function (e) { return (e.file || "?") + (e.access ? " (" + e.access + ")" : ""); }).join(", "), max: 600 }) : "not touched");
    summary.appendChild(h("h2", "Summary"));
    summary.appendChild(kv);

    K.clear(list);
    list.appendChild(h("h2", "Timeline (oldest first) — select an entry for the whole event"));
    var ol = h("ol.timeline");
    events.forEach(function (e) {
      var cls = e.reason === "honeypot" ? "honeypot" : /^[a-z]+$/.test(e.action || "") ? e.action : "";
      var li = h("li", { class: cls, tabindex: "0" },
        h("span.when", K.time(e.time)), K.badge(e.action), " ", e.reason ? K.badge(e.reason) : null, " ",
        e.action === "started" ? h("span", { text: "enforcer " + (e.version || "") + " started in " + (e.mode || "?") + " mode" + (Array.isArray(e.not_enforced) && e.not_enforced.length ? "; not enforced: " + e.not_enforced.join(", ") : ""), max: 400 })
          : e.reason === "honeypot" ? h("span", { text: "decoy " + (e.file || "?") + " " + (e.access || "touched"), max: 400 })
          : h("span.mono", { text: (e.executable || "?") + "  " + argv(e), max: 300 }));
      function open() { K.showEvent(detail, e); }
      li.addEventListener("click", open);
      li.addEventListener("keydown", function (ev) { if (ev.key === "Enter") open(); });
      ol.appendChild(li);
    });
    list.appendChild(ol);
  }
})(window.K);
