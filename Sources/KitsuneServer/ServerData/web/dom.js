"use strict";
// DOM helpers. Every piece of text goes in through createTextNode / textContent: nothing from the
// server or from an event is ever parsed as markup (the page's CSP also forbids HTML-parsing sinks).
var K = window.K = { pages: {} };

// Characters that reorder or hide text (bidi overrides and isolates, zero-width marks): shown as a
// visible marker so `evil\u202Egpj.exe` cannot pass for something else.
K.invisible = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u200B-\u200D\u2028\u2029\uFEFF\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

// A text node for `value` (any type), at most `max` characters, with invisible characters marked.
K.text = function (value, max) {
  var s = value === null || value === undefined ? "" : typeof value === "string" ? value : String(value);
  var frag = document.createDocumentFragment();
  var cut = max && s.length > max;
  if (cut) s = s.slice(0, max);
  var last = 0;
  s.replace(K.invisible, function (ch, at) {
    if (at > last) frag.appendChild(document.createTextNode(s.slice(last, at)));
    var m = document.createElement("span");
    m.className = "marker";
    m.title = "invisible or direction-changing character";
    m.textContent = "U+" + ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    frag.appendChild(m);
    last = at + 1;
    return ch;
  });
  if (last < s.length) frag.appendChild(document.createTextNode(s.slice(last)));
  if (cut) {
    var more = document.createElement("span");
    more.className = "muted";
    more.textContent = " … (" + value.length + " characters)";
    frag.appendChild(more);
  }
  return frag;
};

// h("tag#id.class", {attr: value, on: {click: fn}}, child, …). Children: nodes, strings (as text), arrays.
// Attribute names are fixed by the page's code; `href` only ever receives links the page builds.
K.h = function (spec, attrs) {
  var parts = spec.split(".");
  var tagAndId = parts[0].split("#");
  var el = document.createElement(tagAndId[0] || "div");
  if (tagAndId[1]) el.id = tagAndId[1];
  if (parts.length > 1) el.className = parts.slice(1).join(" ");
  var children = Array.prototype.slice.call(arguments, 2);
  if (attrs && (attrs.nodeType || typeof attrs !== "object" || Array.isArray(attrs))) { children.unshift(attrs); attrs = null; }
  if (attrs) {
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "on") { Object.keys(v).forEach(function (ev) { el.addEventListener(ev, v[ev]); }); }
      else if (k === "text") el.appendChild(K.text(v, attrs.max));
      else if (k === "max") { /* used with text */ }
      else if (k === "href") el.setAttribute("href", K.safeHref(v));
      else el.setAttribute(k, v === true ? "" : String(v));
    });
  }
  K.append(el, children);
  return el;
};

K.append = function (el, children) {
  children.forEach(function (c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) K.append(el, c);
    else if (c.nodeType) el.appendChild(c);
    else el.appendChild(K.text(c));
  });
  return el;
};

// Only this server's own paths: anything else (a script or data URL, //host) becomes "#".
K.safeHref = function (v) {
  var s = String(v);
  return /^\/(?!\/)[A-Za-z0-9\/_\-.?=&%+~:,]*$/.test(s) ? s : "#";
};

K.clear = function (el) { while (el.firstChild) el.removeChild(el.firstChild); return el; };

// A link inside the dashboard to `path` with query `params` (each value percent-encoded).
K.link = function (label, path, params) {
  var a = K.h("a", { href: K.url(path, params), "data-nav": "" });
  a.appendChild(K.text(label, 200));
  return a;
};

K.url = function (path, params) {
  var q = [];
  Object.keys(params || {}).forEach(function (k) {
    var v = params[k];
    if (v === null || v === undefined || v === "") return;
    (Array.isArray(v) ? v : [v]).forEach(function (x) { q.push(encodeURIComponent(k) + "=" + encodeURIComponent(x)); });
  });
  return path + (q.length ? "?" + q.join("&") : "");
};

// Times: UTC or the browser's zone, the user's choice (remembered in localStorage).
K.utc = localStorage.getItem("kitsune.tz") !== "local";
K.time = function (iso) {
  if (!iso) return "";
  var d = new Date(iso);
  if (isNaN(d)) return String(iso);
  function p(n, w) { return String(n).padStart(w || 2, "0"); }
  if (K.utc) return d.getUTCFullYear() + "-" + p(d.getUTCMonth() + 1) + "-" + p(d.getUTCDate()) + " " + p(d.getUTCHours()) + ":" + p(d.getUTCMinutes()) + ":" + p(d.getUTCSeconds()) + "." + p(d.getUTCMilliseconds(), 3) + "Z";
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()) + "." + p(d.getMilliseconds(), 3);
};
K.timeEl = function (iso) { return K.h("time", { datetime: iso || "", class: "mono" }, K.time(iso)); };

K.badge = function (value) {
  var cls = /^[a-z_]+$/.test(value || "") ? value : "";
  return K.h("span.badge" + (cls ? "." + cls : ""), { text: value || "—", max: 40 });
};

K.empty = function (message, hint) { return K.h("div.empty", K.h("p", message), hint ? K.h("p.muted", hint) : null); };
K.error = function (err) { return K.h("div.error", { role: "alert", text: err && err.message ? err.message : String(err), max: 2000 }); };

// A table: columns [{title, cell(row) → node|string, cls}], rows, optional onOpen(row).
K.table = function (columns, rows, onOpen) {
  var tbody = K.h("tbody");
  rows.forEach(function (row) { tbody.appendChild(K.tableRow(columns, row, onOpen)); });
  return K.h("div.table-wrap", K.h("table",
    K.h("thead", K.h("tr", columns.map(function (c) { return K.h("th", { scope: "col", class: c.cls || null }, c.title); }))),
    tbody));
};
K.tableRow = function (columns, row, onOpen) {
  var tr = K.h("tr", columns.map(function (c) { return K.h("td.cell", { class: "cell " + (c.cls || "") }, c.cell(row)); }));
  if (onOpen) {
    tr.className = "clickable";
    tr.tabIndex = 0;
    tr.addEventListener("click", function (e) { if (!e.target.closest("a,button")) onOpen(row); });
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter") onOpen(row); });
  }
  return tr;
};

K.toast = function (message) {
  var t = K.h("div.t", { text: message, max: 300 });
  document.getElementById("toast").appendChild(t);
  setTimeout(function () { t.remove(); }, 4000);
};

// A confirmation dialog (native <dialog>); resolves true when confirmed.
K.confirm = function (title, body, confirmLabel) {
  return new Promise(function (resolve) {
    var d = K.h("dialog", { "aria-label": title },
      K.h("h2", title), K.h("p", body),
      K.h("div.row", K.h("span.spacer"),
        K.h("button", { type: "button", on: { click: function () { d.close(); resolve(false); } } }, "Cancel"),
        K.h("button.primary", { type: "button", id: "confirm-ok", on: { click: function () { d.close(); resolve(true); } } }, confirmLabel || "Confirm")));
    d.addEventListener("close", function () { setTimeout(function () { d.remove(); }, 0); });
    document.body.appendChild(d);
    d.showModal();
  });
};
