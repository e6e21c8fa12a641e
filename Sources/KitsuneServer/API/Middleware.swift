import Foundation
import HTTPTypes
import Hummingbird

/// Headers every answer carries: nothing is sniffed, cached, framed or sent as a referrer.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    let tls: Bool
    static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy")! }
    static var frameOptions: HTTPField.Name { HTTPField.Name("X-Frame-Options")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            apply(&response.headers)
            return response
        } catch let error as HTTPResponseError {
            var response = try error.response(from: request, context: context)
            apply(&response.headers)
            return response
        }
    }

    private func apply(_ headers: inout HTTPFields) {
        headers[.xContentTypeOptions] = "nosniff"
        headers[Self.referrerPolicy] = "no-referrer"
        headers[Self.frameOptions] = "DENY"
        if headers[.contentSecurityPolicy] == nil { headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'" }
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        if tls { headers[.strictTransportSecurity] = "max-age=31536000" }
    }
}

/// Counts answers by route pattern and status for `/metrics`.
struct RequestMetrics<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", method: method, status: response.status.code)
            return response
        } catch let error as HTTPResponseError {
            metrics.request(route: context.endpointPath ?? "unmatched", method: method, status: error.status.code)
            throw error
        } catch {
            metrics.request(route: context.endpointPath ?? "unmatched", method: method, status: 500)
            throw error
        }
    }
}

/// `Authorization: Bearer kit_…` on every API route: 401 without a live token, 429 (with
/// `Retry-After`) past the token's request rate. The token itself is never logged or echoed.
/// Without an `Authorization` header, the dashboard's session cookie stands for its token (same role,
/// same rate limit); a write made with a cookie must also carry the session's `X-CSRF-Token` (403).
struct Authenticator: RouterMiddleware {
    let store: ServerStore
    let limiter: RateLimiter
    /// The dashboard's cookie; nil: bearer tokens only.
    var sessions: SessionCookie? = nil

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let principal: Principal
        if request.headers[.authorization] == nil, let sessions, let id = sessions.value(in: request) {
            principal = try await sessionPrincipal(id, sessions, request)
        } else {
            principal = try await bearerPrincipal(request)
        }
        if let wait = limiter.take(principal.tokenID) {
            var error = APIError(.tooManyRequests, "too many requests for this token; retry in \(wait) s")
            error.headers[.retryAfter] = String(wait)
            throw error
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }

    private func bearerPrincipal(_ request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            var error = APIError(.unauthorized, "missing bearer token (Authorization: Bearer kit_…)")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        guard let token = TokenSecret(parsing: header.dropFirst(7)),
              let principal = try await store.authenticate(token) else {
            var error = APIError(.unauthorized, "invalid or revoked token")
            error.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            throw error
        }
        return principal
    }

    private func sessionPrincipal(_ id: String, _ sessions: SessionCookie, _ request: Request) async throws -> Principal {
        guard let session = try await store.session(id, policy: sessions.policy) else {
            throw APIError(.unauthorized, "the dashboard session has expired or was ended; log in again", field: "session")
        }
        if SessionCookie.isWrite(request.method) {
            guard let sent = request.headers[SessionCookie.csrfHeader], constantTimeEqual(sent, session.csrf) else {
                throw APIError(.forbidden, "a write with a session cookie needs the session's X-CSRF-Token header", field: "X-CSRF-Token")
            }
        }
        return session.principal
    }
}

extension RequestContext {
    /// The matched route pattern (`/api/v1/enforcer-groups/{id}`), for metrics and logs.
    var endpointPath: String? { coreContext.endpointPath.value }
}

/// Turns the domain's errors into answers: a bad parameter → 400 naming it, a bad batch → 400/413,
/// the store down or full → 503 with `Retry-After`, a conflict → 409. Anything else stays a 500.
struct ErrorMapping<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as ParameterError {
            throw APIError.bad(e)
        } catch let e as EventProblem {
            throw APIError(e.reason.contains("at most") ? .contentTooLarge : .badRequest, e.reason, field: e.field)
        } catch let e as StoreError {
            switch e {
            case .unavailable:
                metrics.add("kitsune_store_unavailable_total", 1)
                throw APIError.unavailable(e)
            case .conflict(let m): throw APIError(.conflict, m)
            case .failed: throw e
            }
        }
    }
}
