import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard's session cookie: `HttpOnly`, `SameSite=Strict`, `Path=/`, and on TLS `Secure` with
/// the `__Host-` prefix (the browser then refuses it from plain HTTP or for another path or domain).
public struct SessionCookie: Sendable {
    public let tls: Bool
    public var policy: SessionPolicy
    /// The header a write made with a session must carry, holding the session's CSRF token.
    public static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    public init(tls: Bool, policy: SessionPolicy = SessionPolicy()) {
        self.tls = tls
        self.policy = policy
    }

    public var name: String { tls ? "__Host-kitsune_session" : "kitsune_session" }

    /// `Set-Cookie` for a new session.
    func set(_ session: NewSession, nowMs: Int64) -> String {
        let maxAge = max(0, (session.expiresMs - nowMs) / 1000)
        return "\(name)=\(session.id); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "")
    }

    /// `Set-Cookie` that removes it.
    var clear: String { "\(name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "") }

    /// The session id the request's `Cookie` headers carry, if any.
    func value(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == name {
                    return kv[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// Whether `method` changes something (and so needs the CSRF header).
    static func isWrite(_ method: HTTPRequest.Method) -> Bool {
        !(method == .get || method == .head || method == .options)
    }
}
