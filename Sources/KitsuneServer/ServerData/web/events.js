"use strict";
// Events: a filter bar that is the API's filters (and the URL's query), live updates, a detail view.
// Incidents: one invocation (request id) or one cold start (instance id) as a timeline.
(function (K) {
  var h = K.h;
  K.eventFilters = [
    ["function", "Function"], ["account", "Account"], ["region", "Region"], ["reason", "Reason"], ["action", "Action"],
    ["mode", "Mode"], ["request_id", "Request id"], ["instance_id", "Instance id"], ["group", "Group"],
    ["since", "Since"], ["until", "Until"], ["q", "Text contains"],
  ];
  var POLL_MS = 5000;

  // The filters of the page's URL, as the API takes them (repeated parameters stay arrays).
  function filtersFromURL() {
    var params = new URLSearchParams(location.search), out = {};
    K.eventFilters.forEach(function (f) {
      var v = params.getAll(f[0]).filter(function (x) { return x !== ""; });
      if (v.length) out[f[0]] = v.length === 1 ? v[0] : v;
    });
    return out;
  }
  function eventKey(e) { return e.instance_id && e.seq !== undefined ? e.instance_id + ":" + e.seq : JSON.stringify(e); }
  function what(e) { return e.executable || e.file || e.target || e.detail || ""; }
  function argvText(e) { return Array.isArray(e.argv) ? e.argv.map(String).join(" ") : ""; }

  K.pages.events = function (main) {
    var filters = filtersFromURL();
    main.appendChild(h("h1", "Events"));
    var form = h("form.filters", { role: "search", "aria-label": "Event filters" });
    K.eventFilters.forEach(function (f) {
      var v = filters[f[0]];
      form.appendChild(h("label", f[1], h("input", { name: f[0], value: Array.isArray(v) ? v.join(",") : v || "", placeholder: f[0] === "since" ? "24h, 7d or a time" : f[0] === "action" ? "blocked,reported" : "",
        autocomplete: "off", spellcheck: "false" })));
    });
    form.appendChild(h("div.row", h("button.primary", { type: "submit" }, "Apply"), h("button", { type: "button", on: { click: function () { K.go("/events", {}); } } }, "Clear")));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = {};
      new FormData(form).forEach(function (v, k) {
        v = String(v).trim();
        if (!v) return;
        var parts = ["since", "until", "q"].indexOf(k) >= 0 ? [v] : v.split(",").map(function (x) { return x.trim(); }).filter(Boolean);
        q[k] = parts.length === 1 ? parts[0] : parts;
      });
      K.go("/events", q);
    });
    main.appendChild(form);
    var bar = h("div.row", h("span#live.muted", ""), h("span.spacer"),
      h("a", { href: K.url("/api/v1/events/export", Object.assign({ format: "jsonl" }, filters)), download: "" }, "Export JSON lines"),
      h("a", { href: K.url("/api/v1/events/export", Object.assign({ format: "csv" }, filters)), download: "" }, "CSV"),
      h("a", { href: K.url("/api/v1/events/export", Object.assign({ format: "ocsf" }, filters)), download: "" }, "OCSF"));
    main.appendChild(bar);
    var detail = h("section#detail");
    var list = h("section#list", h("p.muted", "Loading…"));
    main.appendChild(list);
    main.appendChild(detail);

    var columns = [
      { title: "Time", cell: function (e) { return K.timeEl(e.time); } },
      { title: "Action", cell: function (e) { return K.badge(e.action); } },
      { title: "Reason", cell: function (e) { return e.reason ? K.link(e.reason, "/events", Object.assign({}, filters, { reason: e.reason })) : ""; } },
      { title: "Function", cell: function (e) { return e.function_name ? K.link(e.function_name, "/events", Object.assign({}, filters, { function: e.function_name })) : h("span.muted", "—"); } },
      { title: "What", cell: function (e) { return h("span.mono", { text: what(e), max: 160 }); } },
      { title: "Arguments", cls: "hide-narrow", cell: function (e) { return h("span.mono", { text: argvText(e), max: 160 }); } },
      { title: "Invocation", cls: "hide-narrow", cell: function (e) {
        return e.request_id ? K.link(String(e.request_id).slice(0, 13), "/incidents", { request_id: e.request_id })
          : e.instance_id ? K.link("cold start " + String(e.instance_id).slice(0, 8), "/incidents", { instance_id: e.instance_id }) : ""; } },
    ];
    var seen = new Set(), newest = null, tbody = null, cursor = null;
    function open(e) { showDetail(detail, e); detail.scrollIntoView({ block: "nearest" }); }
    function add(events, atTop) {
      events.forEach(function (e) {
        var k = eventKey(e);
        if (seen.has(k)) return;
        seen.add(k);
        if (!newest || e.time > newest) newest = e.time;
        var tr = K.tableRow(columns, e, open);
        if (atTop) { tr.classList.add("new"); tbody.insertBefore(tr, tbody.firstChild); } else tbody.appendChild(tr);
      });
    }
    K.get("/events", Object.assign({ limit: 100 }, filters)).then(function (page) {
      K.clear(list);
      if (!page.events.length) {
        list.appendChild(K.empty(Object.keys(filters).length ? "No event matches these filters." : "No events yet.",
          Object.keys(filters).length ? "Widen the filters, or clear them." : "Events appear here as enforcers report them."));
      }
      var table = K.table(columns, []);
      tbody = table.querySelector("tbody");
      list.appendChild(table);
      add(page.events, false);
      cursor = page.next_cursor;
      var more = h("button", { type: "button", id: "older" }, "Older events");
      var pager = h("div.pager", more);
      more.hidden = !cursor;
      more.addEventListener("click", function () {
        more.disabled = true;
        K.get("/events", Object.assign({ limit: 100, cursor: cursor }, filters)).then(function (p) {
          add(p.events, false); cursor = p.next_cursor; more.hidden = !cursor; more.disabled = false;
        }, function (err) { list.appendChild(K.error(err)); more.disabled = false; });
      });
      list.appendChild(pager);
      if (!filters.until) K.every(POLL_MS, poll);
    }, function (err) { K.clear(list).appendChild(K.error(err)); });

    // New events without a reload: the same filters, since the newest event shown.
    function poll() {
      var q = Object.assign({ limit: 100 }, filters);
      if (newest) q.since = newest;
      return K.get("/events", q).then(function (p) {
        var before = seen.size;
        var fresh = p.events.slice().reverse();
        if (fresh.length && list.querySelector(".empty")) list.querySelector(".empty").remove();
        add(fresh, true);
        var n = seen.size - before;
        document.getElementById("live").textContent = "Live: checked " + K.time(new Date().toISOString()) + (n ? " — " + n + " new" : "");
      }, function () { document.getElementById("live").textContent = "Live updates paused: the server did not answer"; });
    }
    var direct = new URLSearchParams(location.search).get("open");
    if (direct) detail.appendChild(K.empty("Pick an event in the list to see all of it."));
  };

  function showDetail(panel, e) {
    K.clear(panel);
    var kv = h("dl.kv");
    function row(label, value) { if (value === undefined || value === null || value === "") return; kv.appendChild(h("dt", label)); kv.appendChild(h("dd", value)); }
    row("Time", K.timeEl(e.time));
    row("Action", K.badge(e.action));
    row("Reason", e.reason ? h("span", { text: e.reason + (Array.isArray(e.reasons) && e.reasons.length > 1 ? " (" + e.reasons.join(", ") + ")" : ""), max: 300 }) : null);
    row("Mode", e.mode);
    row("Function", e.function_name ? h("span", K.link(e.function_name, "/functions", { function: e.function_name }), " · ",
      K.link("its policy", "/policies", { function: e.function_name }), " · ", K.link("its events", "/events", { function: e.function_name })) : null);
    row("Account / region", [e.account_id, e.region].filter(Boolean).join(" / "));
    row("Request id", e.request_id ? K.link(e.request_id, "/incidents", { request_id: e.request_id }) : null);
    row("Instance (cold start)", e.instance_id ? K.link(e.instance_id, "/incidents", { instance_id: e.instance_id }) : null);
    row("Executable", e.executable ? h("span.mono", { text: e.executable, max: 1024 }) : null);
    row("Target", e.target ? h("span.mono", { text: e.target, max: 1024 }) : null);
    row("Subject", e.subject ? h("span.mono", { text: e.subject, max: 1024 }) : null);
    row("File", e.file ? h("span.mono", { text: e.file + (e.access ? " (" + e.access + ")" : ""), max: 1024 }) : null);
    row("SHA-256", e.sha256 ? h("span.mono", { text: e.sha256, max: 80 }) : null);
    row("Syscall", e.syscall);
    row("Detail", e.detail ? h("span", { text: e.detail, max: 1024 }) : null);
    row("Process", "pid " + (e.pid === undefined ? "?" : e.pid) + (e.ppid !== undefined ? ", parent " + e.ppid : ""));
    var chain = h("ol.chain", { "aria-label": "Process and its ancestors, nearest first" });
    chain.appendChild(h("li.self", h("span.mono", { text: (e.pid !== undefined ? e.pid + "  " : "") + (e.executable || "?") + "  " + argvText(e), max: 600 })));
    (Array.isArray(e.ancestors) ? e.ancestors : []).forEach(function (a) {
      a = a || {};
      chain.appendChild(h("li", h("span.mono", { text: (a.pid !== undefined ? a.pid + "  " : "") + (a.executable || "?") + "  " + (Array.isArray(a.argv) ? a.argv.map(String).join(" ") : ""), max: 600 })));
    });
    panel.appendChild(h("div.panel",
      h("div.row", h("h2", "Event"), h("span.spacer"), h("button", { type: "button", on: { click: function () { K.clear(panel); } } }, "Close")),
      kv,
      h("h2", "Process chain (the attempt, then its parents up to the runtime)"), chain,
      Array.isArray(e.argv) ? [h("h2", "Arguments (" + e.argv.length + ")" + (e.argv_truncated ? ", truncated by the enforcer" : "")),
        h("ol.mono", e.argv.slice(0, 256).map(function (a) { return h("li", { text: a, max: 2048 }); }))] : null,
      h("h2", "The whole event, as the enforcer sent it"), h("pre", { text: JSON.stringify(e, null, 2), max: 600000 })));
    panel.querySelector("h2").focus && panel.setAttribute("tabindex", "-1");
    panel.focus();
  }
  K.showEvent = showDetail;
})(window.K);
