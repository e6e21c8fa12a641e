import Foundation
import Hummingbird

/// The request context of the API: who is calling, once the bearer token checked out.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``Authenticator`` for every `/api/v1` route.
    public var principal: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The caller, required to have at least `role`; 403 otherwise.
    public func require(_ role: Role) throws -> Principal {
        guard let principal else { throw APIError(.unauthorized, "authentication required") }
        guard principal.has(role) else {
            throw APIError(.forbidden, "this token's role (\(principal.role.rawValue)) may not do this; it needs \(role.rawValue)")
        }
        return principal
    }
}

/// An error answer: `{"error": "…", "field": "…"}` with a status, and extra members where useful.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var field: String?
    public var headers: HTTPFields = [:]
    /// Extra members of the JSON answer, as JSON text by name.
    public var extra: [(String, String)] = []

    public init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    public var description: String { "\(status.code) \(message)" }

    /// A request parameter or body field that is not acceptable: 400 naming it.
    public static func bad(_ e: ParameterError) -> APIError { APIError(.badRequest, e.description, field: e.parameter) }

    /// The store cannot answer now: 503 with a `Retry-After`.
    public static func unavailable(_ e: StoreError) -> APIError {
        var error = APIError(.serviceUnavailable, "the store is unavailable; retry later")
        error.headers[.retryAfter] = "5"
        return error
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var w = JSONWriter()
        w.beginObject()
        w.field("error", message)
        if let field { w.field("field", field) }
        for (name, json) in extra { w.field(name, raw: json) }
        w.endObject()
        var response = Response.json(w.text, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}

extension Response {
    /// A JSON answer.
    public static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A JSON answer built by `body`.
    public static func json(status: HTTPResponse.Status = .ok, _ body: (inout JSONWriter) -> Void) -> Response {
        var w = JSONWriter()
        body(&w)
        return json(w.text, status: status)
    }
}
