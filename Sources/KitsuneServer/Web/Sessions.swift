import Crypto
import Foundation

/// How long a dashboard session lasts: at most `absoluteMs` after login, and ends after `idleMs`
/// without a request.
public struct SessionPolicy: Sendable, Equatable {
    public var absoluteMs: Int64 = 12 * 3_600_000
    public var idleMs: Int64 = 60 * 60_000
    /// A session's `last_seen` is written at most this often (not once per request).
    public var touchEveryMs: Int64 = 60_000
    public init() {}
}

/// A session as handed to the browser once: the cookie value and the CSRF token its writes carry.
public struct NewSession: Sendable {
    /// 256 random bits, hex: the cookie's value. Only its SHA-256 is stored.
    public var id: String
    /// 256 random bits, hex: sent back by the page in `X-CSRF-Token` on every write.
    public var csrf: String
    public var expiresMs: Int64
    public var principal: Principal
}

/// A live session, looked up from its cookie.
public struct SessionInfo: Sendable {
    public var principal: Principal
    public var csrf: String
    public var expiresMs: Int64
    public var idleExpiresMs: Int64
}

extension ServerStore {
    /// Exchanges an API token for a session. Nil when the token is unknown, revoked or a machine's:
    /// only people's roles (viewer, editor, admin) log in, never an enforcer group's (ingest) or an
    /// in-account agent's token, which live in functions' and accounts' configuration.
    public func createSession(token: TokenSecret, policy: SessionPolicy, nowMs: Int64 = Timestamps.nowMs()) async throws(StoreError) -> NewSession? {
        guard let principal = try await authenticate(token), principal.role >= .viewer else { return nil }
        let session = NewSession(id: randomHex(bytes: 32), csrf: randomHex(bytes: 32), expiresMs: nowMs + policy.absoluteMs, principal: principal)
        _ = try await database.transaction([
            SQLStatement("DELETE FROM sessions WHERE expires_ms < ? OR last_seen_ms < ?", [.int(nowMs), .int(nowMs - policy.idleMs)]),
            SQLStatement("INSERT INTO sessions (id_hash, token_id, csrf, created_ms, last_seen_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)",
                         [.text(Self.sessionHash(session.id)), .text(principal.tokenID), .text(session.csrf), .int(nowMs), .int(nowMs), .int(session.expiresMs)]),
            audit(AdminRoutes.actor(principal), "session.login", principal.tokenID, "dashboard login"),
        ])
        return session
    }

    /// The live session behind a cookie value; nil when unknown, expired, idle too long, or its token
    /// was revoked. Refreshes `last_seen` at most once per `policy.touchEveryMs`.
    public func session(_ id: String, policy: SessionPolicy, nowMs: Int64 = Timestamps.nowMs()) async throws(StoreError) -> SessionInfo? {
        guard Self.isSessionID(id) else { return nil }
        let hash = Self.sessionHash(id)
        guard let row = try await database.first(SQLStatement("""
            SELECT s.csrf, s.expires_ms, s.last_seen_ms, t.id, t.role, t.name
            FROM sessions s JOIN tokens t ON t.id = s.token_id
            WHERE s.id_hash = ? AND t.revoked_ms IS NULL
            """, [.text(hash)])),
              let role = Role(rawValue: row.text(4) ?? ""), role >= .viewer else { return nil }
        let expires = row.int(1), lastSeen = row.int(2)
        guard nowMs < expires, nowMs - lastSeen < policy.idleMs else { return nil }
        let touched = nowMs - lastSeen >= policy.touchEveryMs
        if touched {
            _ = try await database.transaction([SQLStatement("UPDATE sessions SET last_seen_ms = ? WHERE id_hash = ?", [.int(nowMs), .text(hash)])])
        }
        let principal = Principal(tokenID: row.text(3) ?? "", role: role, name: row.text(5) ?? "", groupID: nil, functions: nil)
        return SessionInfo(principal: principal, csrf: row.text(0) ?? "", expiresMs: expires,
                           idleExpiresMs: min(expires, (touched ? nowMs : lastSeen) + policy.idleMs))
    }

    /// Ends a session (logout). False when there was none.
    public func deleteSession(_ id: String, actor: String) async throws(StoreError) -> Bool {
        guard Self.isSessionID(id) else { return false }
        let result = try await database.transaction([
            SQLStatement("DELETE FROM sessions WHERE id_hash = ? RETURNING token_id", [.text(Self.sessionHash(id))]),
            audit(actor, "session.logout", "", "dashboard logout"),
        ])
        return !result[0].isEmpty
    }

    static func sessionHash(_ id: String) -> String {
        SHA256.hash(data: Data(id.utf8)).hexString
    }

    /// 64 lowercase hex digits.
    static func isSessionID(_ id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

/// Constant-time equality of two strings' bytes (CSRF tokens).
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var d: UInt8 = 0
    for i in 0..<x.count { d |= x[i] ^ y[i] }
    return d == 0
}
