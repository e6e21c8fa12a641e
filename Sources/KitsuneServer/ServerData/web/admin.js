"use strict";
// Enforcer groups and tokens, alert destinations, the audit log.
(function (K) {
  var h = K.h;

  // A secret shown once, with a copy button.
  function secret(label, token) {
    var code = h("code", { text: token, max: 200 });
    return h("div.secret", { role: "status" }, h("strong", label), " — shown only now: ", code, " ",
      h("button", { type: "button", on: { click: function () { navigator.clipboard && navigator.clipboard.writeText(token).then(function () { K.toast("Copied"); }); } } }, "Copy"));
  }

  K.pages.groups = function (main) {
    main.appendChild(h("h1", "Enforcer groups and tokens"));
    var out = h("div");
    main.appendChild(out);
    var groups = h("section.panel", h("h2", "Enforcer groups"), h("p.muted", "Enforcers post events with their group's token."));
    main.appendChild(groups);
    if (K.can("editor")) {
      var name = h("input", { name: "group-name", id: "group-name", placeholder: "prod-web", "aria-label": "New group name", required: true, maxlength: "128" });
      groups.appendChild(h("form.row", { id: "new-group", on: { submit: function (ev) {
        ev.preventDefault();
        K.api("POST", "/enforcer-groups", { json: { name: name.value.trim() } }).then(function (g) {
          K.clear(out).appendChild(secret("Token of group " + g.name, g.token)); K.pages.reload();
        }, function (err) { K.clear(out).appendChild(K.error(err)); });
      } } }, name, h("button.primary", { type: "submit" }, "Create group")));
    }
    var list = h("div", h("p.muted", "Loading…"));
    groups.appendChild(list);
    K.get("/enforcer-groups").then(function (r) {
      K.clear(list);
      if (!r.groups.length) { list.appendChild(K.empty("No enforcer group yet.", K.can("editor") ? "Create one above and give its token to the Kitsune layer (KITSUNE_EVENTS_TOKEN)." : "An editor creates them.")); return; }
      list.appendChild(K.table([
        { title: "Name", cell: function (g) { return K.link(g.name, "/events", { group: g.id }); } },
        { title: "Id", cls: "hide-narrow", cell: function (g) { return h("span.mono", { text: g.id, max: 40 }); } },
        { title: "Enforcers", cell: function (g) { return String(g.enforcers); } },
        { title: "Functions", cell: function (g) { return String(g.functions); } },
        { title: "Created", cls: "hide-narrow", cell: function (g) { return K.timeEl(g.created_at); } },
        { title: "", cell: function (g) {
          if (!K.can("editor")) return "";
          return h("span.row",
            h("button", { type: "button", on: { click: function () {
              K.confirm("Rotate the token of " + g.name + "?", "The current group token stops working now; enforcers need the new one.", "Rotate").then(function (ok) {
                if (ok) K.api("POST", "/enforcer-groups/" + encodeURIComponent(g.id) + "/rotate").then(function (r2) { K.clear(out).appendChild(secret("New token of group " + r2.name, r2.token)); }, function (err) { K.clear(out).appendChild(K.error(err)); });
              });
            } } }, "Rotate token"),
            h("button.danger", { type: "button", on: { click: function () {
              K.confirm("Delete group " + g.name + "?", "Its tokens are revoked now; its events stay.", "Delete").then(function (ok) {
                if (ok) K.api("DELETE", "/enforcer-groups/" + encodeURIComponent(g.id)).then(function () { K.toast("Deleted " + g.name); K.pages.reload(); }, function (err) { K.clear(out).appendChild(K.error(err)); });
              });
            } } }, "Delete"));
        } },
      ], r.groups));
    }, function (err) { K.clear(list).appendChild(K.error(err)); });

    if (!K.can("admin")) { main.appendChild(h("section.panel", h("h2", "API tokens"), h("p.muted", "Only admins see and manage API tokens."))); return; }
    var tokens = h("section.panel", h("h2", "API tokens"));
    main.appendChild(tokens);
    var tname = h("input", { id: "token-name", placeholder: "name", "aria-label": "Token name", maxlength: "128" });
    var role = h("select", { id: "token-role", "aria-label": "Role" }, ["viewer", "editor", "admin"].map(function (r) { return h("option", { value: r }, r); }));
    tokens.appendChild(h("form.row", { on: { submit: function (ev) {
      ev.preventDefault();
      K.api("POST", "/tokens", { json: { role: role.value, name: tname.value.trim() || role.value } }).then(function (t) {
        K.clear(out).appendChild(secret(t.role + " token " + t.name, t.token)); K.pages.reload();
      }, function (err) { K.clear(out).appendChild(K.error(err)); });
    } } }, tname, role, h("button.primary", { type: "submit" }, "Create API token")));
    var tlist = h("div");
    tokens.appendChild(tlist);
    K.get("/tokens").then(function (r) {
      tlist.appendChild(K.table([
        { title: "Name", cell: function (t) { return h("span", { text: t.name, max: 128 }); } },
        { title: "Role", cell: function (t) { return K.badge(t.role); } },
        { title: "Id", cls: "hide-narrow", cell: function (t) { return h("span.mono", { text: t.id, max: 40 }); } },
        { title: "Group", cls: "hide-narrow", cell: function (t) { return t.group_id ? h("span.mono", { text: t.group_id, max: 40 }) : ""; } },
        { title: "Created", cls: "hide-narrow", cell: function (t) { return h("span", K.timeEl(t.created_at), h("div.muted", { text: t.created_by, max: 100 })); } },
        { title: "State", cell: function (t) {
          if (t.revoked_at) return h("span", h("span.badge.bad", "revoked"), " ", K.timeEl(t.revoked_at));
          if (K.session.token_id === t.id) return h("span.muted", "this session's token");
          return h("button.danger", { type: "button", on: { click: function () {
            K.confirm("Revoke token " + t.name + "?", "It stops working now, and so do dashboard sessions opened with it.", "Revoke").then(function (ok) {
              if (ok) K.api("DELETE", "/tokens/" + encodeURIComponent(t.id)).then(function () { K.pages.reload(); }, function (err) { K.clear(out).appendChild(K.error(err)); });
            });
          } } }, "Revoke");
        } },
      ], r.tokens));
    }, function (err) { tlist.appendChild(K.error(err)); });
  };

  K.pages.alerts = function (main) {
    main.appendChild(h("h1", "Alert destinations"));
    var body = h("section", h("p.muted", "Loading…"));
    main.appendChild(body);
    K.get("/alert-destinations").then(function (r) {
      K.clear(body);
      var list = r.destinations || r.alert_destinations || [];
      if (!list.length) { body.appendChild(K.empty("No alert destination yet.", "Add a webhook, Slack or SNS destination through POST /api/v1/alert-destinations.")); return; }
      body.appendChild(K.table([
        { title: "Name", cell: function (d) { return h("span", { text: d.name || d.id, max: 128 }); } },
        { title: "Kind", cell: function (d) { return K.badge(d.kind || d.type); } },
        { title: "Routes", cell: function (d) { return h("span.mono", { text: d.route ? JSON.stringify(d.route) : d.routes ? JSON.stringify(d.routes) : "", max: 300 }); } },
        { title: "Last delivery", cell: function (d) { return h("span", { text: d.last_error ? "failed: " + d.last_error : d.last_delivery_at || d.last_sent_at || "", max: 300 }); } },
        { title: "", cell: function (d) {
          if (!K.can("editor")) return "";
          return h("button", { type: "button", on: { click: function (ev) {
            var b = ev.target; b.disabled = true;
            K.api("POST", "/alert-destinations/" + encodeURIComponent(d.id) + "/test").then(function (res) {
              b.disabled = false; K.toast("Test alert sent to " + (d.name || d.id) + (res && res.status ? ": " + res.status : ""));
            }, function (err) { b.disabled = false; body.appendChild(K.error(err)); });
          } } }, "Send a test alert");
        } },
      ], list));
    }, function (err) { K.clear(body).appendChild(K.notAvailable(err) ? K.unavailableState("Alerting") : K.error(err)); });
  };

  K.pages.audit = function (main) {
    var before = new URLSearchParams(location.search).get("before");
    main.appendChild(h("h1", "Audit log"));
    var body = h("section", h("p.muted", "Loading…"));
    main.appendChild(body);
    K.get("/audit", before ? { before: before, limit: 100 } : { limit: 100 }).then(function (r) {
      K.clear(body);
      if (!r.entries.length) { body.appendChild(K.empty("The audit log is empty.")); return; }
      body.appendChild(K.table([
        { title: "Time", cell: function (e) { return K.timeEl(e.time); } },
        { title: "Who", cell: function (e) { return h("span", { text: e.actor, max: 200 }); } },
        { title: "Action", cell: function (e) { return h("span.mono", { text: e.action, max: 64 }); } },
        { title: "Target", cls: "hide-narrow", cell: function (e) { return h("span.mono", { text: e.target, max: 128 }); } },
        { title: "Detail", cell: function (e) { return h("span", { text: e.detail, max: 600 }); } },
      ], r.entries));
      body.appendChild(h("div.pager", before ? K.link("Newest", "/audit", {}) : null, r.next_before ? K.link("Older entries", "/audit", { before: r.next_before }) : null));
    }, function (err) { K.clear(body).appendChild(K.error(err)); });
  };
})(window.K);
