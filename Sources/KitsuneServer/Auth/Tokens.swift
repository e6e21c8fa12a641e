import Crypto
import Foundation

/// What a token may do. Each role includes the ones before it: a viewer reads; an editor also manages
/// enforcer groups (and policies); an admin also manages API tokens. `ingest` is an enforcer group's
/// token: it can only post events, as the functions of its group (and of its scope). `agent` is an
/// in-account agent's token: it can only use the `/api/v1/agent` routes, for its own account.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case agent, ingest, viewer, editor, admin

    private var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// A bearer token as handed out: `kit_<id>_<secret>`. The id (public, 16 hex digits) finds the row;
/// the secret (256 random bits, 64 hex digits) is stored only as its SHA-256 and compared in constant
/// time. Logs and responses name a token by its id only.
public struct TokenSecret: Sendable, Equatable {
    public let id: String
    public let secret: String

    /// The whole token, shown once at creation.
    public var text: String { "kit_\(id)_\(secret)" }

    /// A new random token.
    public static func generate() -> TokenSecret {
        TokenSecret(id: randomHex(bytes: 8), secret: randomHex(bytes: 32))
    }

    /// Parses `kit_<16 hex>_<64 hex>`; nil for anything else (never echoed back).
    public init?(parsing text: Substring) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "kit", parts[1].utf8.count == 16, parts[2].utf8.count == 64,
              parts[1].utf8.allSatisfy(Self.isHex), parts[2].utf8.allSatisfy(Self.isHex) else { return nil }
        id = String(parts[1])
        secret = String(parts[2])
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// SHA-256 of the secret, hex: what the store keeps.
    public var hash: String { Self.hash(secret) }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).hexString
    }

    /// Constant-time comparison of this token's hash with a stored one.
    public func matches(storedHash: String) -> Bool {
        let a = Array(hash.utf8), b = Array(storedHash.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private static func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) }
}

/// `count` random bytes from the system's CSPRNG, as lowercase hex.
func randomHex(bytes count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
}

/// Which functions a group token may post events as. `nil` fields match anything; a function
/// deployed by the control plane gets a token scoped to exactly itself.
public struct FunctionScope: Codable, Sendable, Equatable {
    public var functionName: String
    public var accountID: String?
    public var region: String?

    public init(functionName: String, accountID: String? = nil, region: String? = nil) {
        self.functionName = functionName
        self.accountID = accountID
        self.region = region
    }

    enum CodingKeys: String, CodingKey {
        case functionName = "function_name", accountID = "account_id", region
    }
}

/// Who is calling, once the bearer token checked out.
public struct Principal: Sendable {
    public var tokenID: String
    public var role: Role
    public var name: String
    /// For an enforcer group's token: its group.
    public var groupID: String?
    /// For a function-scoped group token: the functions it may post as (nil: any of its group).
    public var functions: [FunctionScope]?

    /// Whether this principal has at least `role` (ingest and agent tokens have no API role at all).
    public func has(_ needed: Role) -> Bool { role != .ingest && role != .agent && role >= needed }
}
