"use strict";
// The ordinary /api/v1, authenticated by the session cookie; every write carries the CSRF token.
(function (K) {
  K.session = null;

  function ApiError(status, body) {
    this.status = status;
    this.field = body && body.field;
    this.message = (body && body.error ? body.error : "HTTP " + status) + (body && body.field ? " (field: " + body.field + ")" : "");
  }

  // request(method, path, {query, json, text, contentType}) → parsed JSON (or null for 204).
  K.api = function (method, path, options) {
    options = options || {};
    var headers = { "Accept": "application/json" };
    var body;
    if (options.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(options.json); }
    if (options.text !== undefined) { headers["Content-Type"] = options.contentType || "text/plain"; body = options.text; }
    if (options.ifMatch !== undefined) headers["If-Match"] = String(options.ifMatch);
    if (method !== "GET" && K.session) headers["X-CSRF-Token"] = K.session.csrf_token;
    return fetch(K.url("/api/v1" + path, options.query), { method: method, headers: headers, body: body, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 204) return null;
        return r.text().then(function (t) {
          var parsed = null;
          try { parsed = t ? JSON.parse(t) : null; } catch (e) { parsed = { error: "the server answered " + r.status + " with something that is not JSON" }; }
          if (r.status === 401 && path !== "/session") { K.session = null; K.go("/login", { next: location.pathname + location.search }); }
          if (!r.ok) throw new ApiError(r.status, parsed);
          return parsed;
        });
      });
  };
  K.get = function (path, query) { return K.api("GET", path, { query: query }); };

  // Pages built on endpoints another part of the server may not have yet: a 404 for the endpoint
  // itself (not for one object) becomes this state.
  K.notAvailable = function (err) { return err && (err.status === 404 || err.status === 405) && !err.field; };
  K.unavailableState = function (what) {
    return K.empty(what + " is not available on this server.", "This server's API has no such endpoint yet; upgrade the server to manage it here.");
  };

  K.can = function (role) {
    var rank = { viewer: 1, editor: 2, admin: 3 };
    return K.session && rank[K.session.role] >= rank[role];
  };
})(window.K);
