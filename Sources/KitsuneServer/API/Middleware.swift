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
struct Authenticator: RouterMiddleware {
    let store: ServerStore
    let limiter: RateLimiter

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
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
        if let wait = limiter.take(principal.tokenID) {
            var error = APIError(.tooManyRequests, "too many requests for this token; retry in \(wait) s")
            error.headers[.retryAfter] = String(wait)
            throw error
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
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
