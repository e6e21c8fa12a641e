import Foundation
import HTTPTypes
import Hummingbird

/// `/api/v1/session`: the dashboard's login (an API token exchanged for a session cookie), the current
/// session (who, role, CSRF token, expiry) and logout. The only endpoints the dashboard adds; every
/// other call it makes is the ordinary API, authenticated by the cookie.
struct SessionRoutes {
    let store: ServerStore
    let cookie: SessionCookie

    func register(on group: RouterGroup<APIContext>) {
        group.post { request, _ in try await login(request) }
        group.get { request, _ in try await current(request) }
        group.delete { request, _ in try await logout(request) }
    }

    func login(_ request: Request) async throws -> Response {
        try Self.sameOrigin(request)
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw APIError(.unsupportedMediaType, "log in with a JSON body {\"token\": \"kit_…\"}", field: "Content-Type")
        }
        let body = try await JSONBody.read(request, allowed: ["token"], limit: 4096)
        guard let text = try body.string("token"), let token = TokenSecret(parsing: Substring(text)),
              let session = try await store.createSession(token: token, policy: cookie.policy) else {
            throw APIError(.unauthorized, "not a live API token of a viewer, editor or admin (enforcer group and agent tokens cannot log in)", field: "token")
        }
        let now = Timestamps.nowMs()
        var response = Self.render(session.principal, csrf: session.csrf, expiresMs: session.expiresMs, status: .created)
        response.headers[.setCookie] = cookie.set(session, nowMs: now)
        return response
    }

    func current(_ request: Request) async throws -> Response {
        guard let id = cookie.value(in: request), let session = try await store.session(id, policy: cookie.policy) else {
            var error = APIError(.unauthorized, "no dashboard session; log in with an API token", field: "session")
            if cookie.value(in: request) != nil { error.headers[.setCookie] = cookie.clear }
            throw error
        }
        return Self.render(session.principal, csrf: session.csrf, expiresMs: session.expiresMs, idleExpiresMs: session.idleExpiresMs)
    }

    func logout(_ request: Request) async throws -> Response {
        try Self.sameOrigin(request)
        if let id = cookie.value(in: request), let session = try await store.session(id, policy: cookie.policy) {
            guard let sent = request.headers[SessionCookie.csrfHeader], constantTimeEqual(sent, session.csrf) else {
                throw APIError(.forbidden, "logging out needs the session's X-CSRF-Token header", field: "X-CSRF-Token")
            }
            _ = try await store.deleteSession(id, actor: AdminRoutes.actor(session.principal))
        }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = cookie.clear
        return response
    }

    /// A browser's cross-site request carries an `Origin` that is not this server: refused.
    static func sameOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let host = request.head.authority ?? request.headers[HTTPField.Name("Host")!] ?? ""
        guard let url = URL(string: origin), let originHost = url.host else {
            throw APIError(.forbidden, "cross-origin request refused", field: "Origin")
        }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        guard originAuthority == host else {
            throw APIError(.forbidden, "cross-origin request refused", field: "Origin")
        }
    }

    static func render(_ p: Principal, csrf: String, expiresMs: Int64, idleExpiresMs: Int64? = nil, status: HTTPResponse.Status = .ok) -> Response {
        Response.json(status: status) { w in
            w.beginObject()
            w.field("token_id", p.tokenID)
            w.field("name", p.name)
            w.field("role", p.role.rawValue)
            w.field("csrf_token", csrf)
            w.field("expires_at", Timestamps.format(expiresMs))
            w.field("idle_expires_at", idleExpiresMs.map(Timestamps.format))
            w.endObject()
        }
    }
}
