"use strict";
// Functions (the inventory, with the fleet's view of each) and policies (list, YAML edit with the
// server's validation, versions with diffs, scope preview, mode switch with a confirmation).
(function (K) {
  var h = K.h;
  function optional(p) { return p.catch(function (e) { if (K.notAvailable(e)) return null; throw e; }); }

  K.pages.functions = function (main) {
    var params = new URLSearchParams(location.search);
    var only = params.get("function"), account = params.get("account");
    main.appendChild(h("h1", "Functions", only ? h("span.muted", { text: " — " + only, max: 128 }) : null));
    var body = h("section", h("p.muted", "Loading…"));
    main.appendChild(body);
    Promise.all([optional(K.get("/functions", account ? { account: account } : {})), K.get("/enforcers")]).then(function (r) {
      K.clear(body);
      var fleet = new Map();
      r[1].enforcers.forEach(function (f) { fleet.set([f.function_name, f.account_id, f.region].join("|"), f); });
      var rows;
      if (r[0]) {
        rows = r[0].functions.map(function (f) { return { fn: f, seen: fleet.get([f.name, f.account_id, f.region].join("|")) }; });
      } else {
        body.appendChild(h("div.notice", "This server has no function inventory (GET /api/v1/functions is not available): listed below are the functions whose enforcer has reported."));
        rows = r[1].enforcers.map(function (e) { return { fn: null, seen: e }; });
      }
      var name = function (x) { return x.fn ? x.fn.name : x.seen.function_name; };
      if (only) rows = rows.filter(function (x) { return name(x) === only; });
      if (account) rows = rows.filter(function (x) { return (x.fn ? x.fn.account_id : x.seen.account_id) === account; });
      if (!rows.length) { body.appendChild(K.empty(only ? "No function named so is known." : "No function is known yet.", "Connect an AWS account (POST /api/v1/accounts) or deploy the Kitsune layer with an enforcer group's token.")); return; }
      body.appendChild(K.table([
        { title: "Function", cell: function (x) { return K.link(name(x), "/events", { function: name(x) }); } },
        { title: "Account / region", cell: function (x) { var o = x.fn || x.seen; return [o.account_id, o.region].filter(Boolean).join(" / "); } },
        { title: "Runtime", cls: "hide-narrow", cell: function (x) { return x.fn ? (x.fn.runtime || x.fn.package_type || "") + (x.fn.architecture ? " · " + x.fn.architecture : "") : ""; } },
        { title: "Policy", cell: function (x) { var d = x.fn && x.fn.deployment; return d && d.policy_id ? K.link((d.policy || d.policy_id) + (d.policy_version ? " v" + d.policy_version : ""), "/policies", { id: d.policy_id }) : h("span.muted", x.fn ? "none" : "—"); } },
        { title: "Deployment", cell: function (x) { var d = x.fn && x.fn.deployment; return d ? h("span", K.badge(d.status), d.detail ? h("div.muted", { text: d.detail, max: 300 }) : null) : h("span.muted", "unknown"); } },
        { title: "Enforcer", cell: function (x) { return x.seen ? h("span", K.badge(x.seen.status), " ", h("span", { text: (x.seen.version || "") + " " + (x.seen.mode || ""), max: 60 }),
          x.seen.not_enforced && x.seen.not_enforced.length ? h("div.muted", { text: "not enforced: " + x.seen.not_enforced.join(", "), max: 300 }) : null) : h("span.muted", "never reported"); } },
        { title: "Last seen", cls: "hide-narrow", cell: function (x) { return x.seen ? K.timeEl(x.seen.last_seen) : ""; } },
      ], rows));
    }, function (err) { K.clear(body).appendChild(K.error(err)); });
  };

  K.pages.policies = function (main) {
    var params = new URLSearchParams(location.search);
    main.appendChild(h("h1", "Policies"));
    var body = h("section", h("p.muted", "Loading…"));
    main.appendChild(body);
    K.get("/policies").then(function (r) {
      K.clear(body);
      var id = params.get("id"), fn = params.get("function");
      if (id || params.get("new") !== null) return editor(body, r.policies.find(function (p) { return p.id === id; }) || null, id);
      if (K.can("editor")) body.appendChild(h("p", h("a", { href: "/policies?new=", "data-nav": "", id: "new-policy" }, "New policy")));
      if (fn) body.appendChild(h("div.notice", { text: "The policy of " + fn + " is shown on the Functions page (its deployment column).", max: 300 }));
      if (!r.policies.length) { body.appendChild(K.empty("No policy yet.", "A policy says which functions (by tag, name, account, region, runtime) run the enforcer and how.")); return; }
      body.appendChild(K.table([
        { title: "Name", cell: function (p) { return K.link(p.name, "/policies", { id: p.id }); } },
        { title: "Mode", cell: function (p) { return K.badge(p.mode); } },
        { title: "Priority", cell: function (p) { return String(p.priority); } },
        { title: "Scope", cell: function (p) { return h("span.mono", { text: scopeText(p.scope), max: 300 }); } },
        { title: "Version", cell: function (p) { return "v" + p.version; } },
        { title: "Updated", cls: "hide-narrow", cell: function (p) { return h("span", K.timeEl(p.updated_at), h("div.muted", { text: p.updated_by, max: 100 })); } },
      ], r.policies, function (p) { K.go("/policies", { id: p.id }); }));
    }, function (err) { K.clear(body).appendChild(K.notAvailable(err) ? K.unavailableState("Policy management") : K.error(err)); });
  };

  function scopeText(scope) {
    return Object.keys(scope || {}).map(function (k) { return k + ": " + [].concat(scope[k]).join(", "); }).join("; ") || "(everything)";
  }

  var TEMPLATE = "name: web-api\nmode: audit            # audit | enforce | learn\npriority: 10\nscope:\n  tags: [\"kitsune=enabled\"]\nblock: []\nallow: []\n";

  function editor(body, policy, id) {
    var canEdit = K.can("editor");
    body.appendChild(h("p", K.link("← All policies", "/policies", {})));
    if (id && !policy) { body.appendChild(K.empty("No such policy.")); return; }
    body.appendChild(h("h2", policy ? h("span", { text: policy.name + " — v" + policy.version + " — " + policy.mode, max: 200 }) : "New policy"));
    var area = h("textarea", { id: "policy-yaml", "aria-label": "Policy YAML", spellcheck: "false", readonly: canEdit ? null : true });
    area.value = policy ? policy.document : TEMPLATE;
    var errors = h("div");
    var preview = h("section.panel");
    var actions = h("div.row");
    function showError(err) { K.clear(errors).appendChild(K.error(err)); }
    if (canEdit) {
      actions.appendChild(h("button.primary", { type: "button", id: "save-policy", on: { click: function () {
        K.clear(errors);
        var req = policy ? K.api("PUT", "/policies/" + encodeURIComponent(policy.id), { text: area.value, contentType: "application/yaml", ifMatch: policy.version })
          : K.api("POST", "/policies", { text: area.value, contentType: "application/yaml" });
        req.then(function (saved) { K.toast("Saved " + saved.name + " v" + saved.version); K.go("/policies", { id: saved.id }); }, showError);
      } } }, policy ? "Save a new version" : "Create"));
      if (policy) {
        var other = policy.mode === "enforce" ? "audit" : "enforce";
        actions.appendChild(h("button", { type: "button", id: "switch-mode", on: { click: function () {
          K.confirm("Switch " + policy.name + " to " + other + "?", other === "enforce"
            ? "Every function in its scope will have attempts blocked, not only reported. Functions that run something outside the policy will fail."
            : "Attempts will be reported but no longer blocked.", "Switch to " + other).then(function (ok) {
            if (!ok) return;
            var doc = /^mode:.*$/m.test(policy.document) ? policy.document.replace(/^mode:.*$/m, "mode: " + other) : "mode: " + other + "\n" + policy.document;
            K.api("PUT", "/policies/" + encodeURIComponent(policy.id), { text: doc, contentType: "application/yaml", ifMatch: policy.version })
              .then(function (saved) { K.toast(saved.name + " is now in " + saved.mode + " mode"); K.go("/policies", { id: saved.id }); }, showError);
          });
        } } }, "Switch to " + other + "…"));
      }
    } else {
      actions.appendChild(h("span.muted", "Your role (" + K.session.role + ") can read policies; editors change them."));
    }
    actions.appendChild(h("button", { type: "button", id: "preview-policy", on: { click: function () {
      K.clear(preview).appendChild(h("p.muted", "Computing the scope…"));
      K.api("POST", "/policies/preview", { text: area.value, contentType: "application/yaml" }).then(function (r) {
        K.clear(preview).appendChild(h("h2", "This policy would cover " + r.count + " function" + (r.count === 1 ? "" : "s")));
        if (r.functions.length) preview.appendChild(K.table([
          { title: "Function", cell: function (f) { return h("span", { text: f.name, max: 200 }); } },
          { title: "Account / region", cell: function (f) { return [f.account_id, f.region].join(" / "); } },
          { title: "Policy now", cell: function (f) { return f.current_policy ? h("span", { text: f.current_policy, max: 100 }) : h("span.muted", "none"); } },
        ], r.functions));
        if (r.shadowed && r.shadowed.length) preview.appendChild(h("p.muted", { text: r.shadowed.length + " more match its scope but keep a policy of higher precedence: " + r.shadowed.map(function (s) { return s.name + " (" + s.effective_policy + ")"; }).join(", "), max: 2000 }));
      }, function (err) { K.clear(preview).appendChild(K.error(err)); });
    } } }, "Preview scope"));
    body.appendChild(area);
    body.appendChild(errors);
    body.appendChild(actions);
    body.appendChild(preview);
    if (policy) versions(body, policy, canEdit);
  }

  function versions(body, policy, canEdit) {
    var panel = h("section.panel", h("h2", "Versions"));
    body.appendChild(panel);
    K.get("/policies/" + encodeURIComponent(policy.id) + "/versions").then(function (r) {
      r.versions.forEach(function (v) {
        var diff = h("pre.diff");
        String(v.diff || "").split("\n").slice(0, 2000).forEach(function (line) {
          diff.appendChild(h("span" + (line[0] === "+" ? ".add" : line[0] === "-" ? ".del" : ""), { text: line + "\n", max: 2000 }));
        });
        var det = h("details", h("summary", h("span", { text: "v" + v.version + " — " + (v.change || "") + " — " + v.actor + " — ", max: 300 }), K.timeEl(v.time)), diff);
        if (canEdit && v.version !== policy.version) det.appendChild(h("button", { type: "button", on: { click: function () {
          K.confirm("Restore v" + v.version + "?", "This saves v" + v.version + "'s document as a new version of " + policy.name + ".", "Restore").then(function (ok) {
            if (ok) K.api("POST", "/policies/" + encodeURIComponent(policy.id) + "/versions/" + v.version + "/restore").then(function (s) { K.go("/policies", { id: s.id }); }, function (e) { panel.appendChild(K.error(e)); });
          });
        } } }, "Restore this version"));
        panel.appendChild(det);
      });
    }, function (err) { panel.appendChild(K.notAvailable(err) ? h("p.muted", "Version history is not available on this server.") : K.error(err)); });
  }
})(window.K);
