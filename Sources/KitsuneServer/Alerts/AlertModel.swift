import Foundation

/// Severities of alerts and the table that maps an event's reason to one
/// (`ServerData/alert-severity.json`, loaded at run time).
public struct SeverityTable: Sendable, Equatable {
    /// Level names, lowest first.
    public var levels: [String]
    public var defaultLevel: String
    public var byReason: [String: String]

    public init(levels: [String], defaultLevel: String, byReason: [String: String]) {
        self.levels = levels
        self.defaultLevel = defaultLevel
        self.byReason = byReason
    }

    /// The severity of an event with `reason`.
    public func severity(reason: String?) -> String {
        guard let reason else { return defaultLevel }
        if let level = byReason[reason] { return level }
        if AlertEvent.isHoneypot(reason: reason) { return levels.last ?? defaultLevel }
        return defaultLevel
    }

    /// Position of `level` (nil when it is not a level).
    public func rank(_ level: String) -> Int? { levels.firstIndex(of: level) }

    /// Parses the table's JSON; every level named must be one of `levels`.
    public static func parse(_ data: Data) throws -> SeverityTable {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let levels = object["levels"] as? [String], !levels.isEmpty,
              let def = object["default"] as? String, levels.contains(def),
              let reasons = object["reasons"] as? [String: String] else {
            throw StoreError.failed("alert-severity.json: needs levels, default and reasons")
        }
        if let bad = reasons.first(where: { !levels.contains($0.value) }) {
            throw StoreError.failed("alert-severity.json: reason \(bad.key) has unknown level \(bad.value)")
        }
        return SeverityTable(levels: levels, defaultLevel: def, byReason: reasons)
    }

    /// The table shipped with the server.
    public static let bundled: Result<SeverityTable, StoreError> = {
        guard let url = Bundle.module.url(forResource: "alert-severity", withExtension: "json", subdirectory: "ServerData"),
              let data = try? Data(contentsOf: url) else { return .failure(.failed("alert-severity.json is missing from this installation")) }
        do { return .success(try parse(data)) } catch let e as StoreError { return .failure(e) } catch { return .failure(.failed("alert-severity.json: \(error)")) }
    }()
}

/// The kinds of destination.
public enum AlertDestinationKind: String, Sendable, CaseIterable {
    /// A generic JSON POST, optionally signed (HMAC-SHA256).
    case webhook
    /// A Slack incoming webhook (text + blocks).
    case slack
    /// An SNS topic (`sns:Publish`, SigV4).
    case sns
}

/// Which events a destination receives. Every list that is empty matches everything; the lists
/// are ANDed, the entries of one list ORed. Honeypot events bypass the match.
public struct AlertMatch: Sendable, Equatable {
    public var reasons: [String] = []
    public var actions: [String] = []
    /// Events at least this severe (nil: any).
    public var minSeverity: String?
    /// Function-name globs (`*`, `?`).
    public var functions: [String] = []
    public var accounts: [String] = []

    public init() {}

    /// Whether `event` is picked.
    public func matches(_ event: AlertEvent, severity: String, table: SeverityTable) -> Bool {
        if !reasons.isEmpty && !reasons.contains(event.reason ?? "") { return false }
        if !actions.isEmpty && !actions.contains(event.action) { return false }
        if let minSeverity, let need = table.rank(minSeverity) {
            guard let have = table.rank(severity), have >= need else { return false }
        }
        if !functions.isEmpty {
            guard let name = event.functionName, functions.contains(where: { Glob.matches($0, name) }) else { return false }
        }
        if !accounts.isEmpty && !accounts.contains(event.accountID ?? "") { return false }
        return true
    }
}

/// `*` and `?` globs over a whole string (no character classes: function names do not need them).
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// A configured destination. `target` (URL or topic ARN) and `secret` are write-only in the API.
public struct AlertDestination: Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: AlertDestinationKind
    public var target: String
    public var secret: String?
    public var match: AlertMatch
    public var enabled: Bool
    public var createdMs: Int64
    public var updatedMs: Int64

    /// What the API shows of `target`: a URL's scheme and host only (Slack and webhook URLs carry
    /// their token in the path or query); an SNS topic ARN in full (it is not a secret).
    public var targetHint: String {
        if kind == .sns { return target }
        guard let url = URL(string: target), let scheme = url.scheme, let host = url.host else { return "(hidden)" }
        return "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")/…"
    }
}

/// The fields of a stored event that alerting looks at, plus a compact, bounded summary.
public struct AlertEvent: Sendable, Equatable {
    public var id: Int64
    public var receivedMs: Int64
    public var timeMs: Int64
    public var action: String
    public var reason: String?
    public var mode: String?
    public var functionName: String?
    public var accountID: String?
    public var region: String?
    public var executable: String?
    /// The event's argv (from its body), bounded.
    public var argv: [String] = []

    public init(id: Int64, receivedMs: Int64, timeMs: Int64, action: String, reason: String? = nil, mode: String? = nil,
                functionName: String? = nil, accountID: String? = nil, region: String? = nil, executable: String? = nil, argv: [String] = []) {
        self.id = id; self.receivedMs = receivedMs; self.timeMs = timeMs; self.action = action; self.reason = reason
        self.mode = mode; self.functionName = functionName; self.accountID = accountID; self.region = region
        self.executable = executable; self.argv = argv
    }

    /// Honeypot or honeytoken use: always an alert, whatever the routes say.
    public static func isHoneypot(reason: String?) -> Bool {
        guard let r = reason?.lowercased() else { return false }
        return r.contains("honeypot") || r.contains("honeytoken")
    }

    /// At most this many argv entries and characters per string are carried into an alert.
    public static let maxArgs = 32, maxField = 1024

    /// Cuts `s` to `maxField` characters, marking the cut.
    public static func bounded(_ s: String?) -> String? {
        guard let s else { return nil }
        return s.count <= maxField ? s : String(s.prefix(maxField)) + "…(\(s.utf8.count) bytes)"
    }

    /// The argv of a stored event body (nothing when the body has none or is not JSON), bounded.
    public static func argv(fromBody body: String) -> [String] {
        var scanner = JSONScanner(Array(body.utf8), maxDepth: 8)
        guard let doc = try? scanner.document(), case .array(let items)? = doc["argv"] else { return [] }
        var out = items.prefix(maxArgs).map { bounded($0.string ?? "") ?? "" }
        if items.count > maxArgs { out.append("…(\(items.count - maxArgs) more)") }
        return out
    }
}

/// States of an alert in the outbox.
public enum AlertState: String, Sendable {
    /// Waiting for (another) delivery attempt at `nextAttemptMs`.
    case pending
    /// The receiver took it (2xx).
    case delivered
    /// Given up after the maximum attempts.
    case dead
}

/// One alert: a row of the outbox.
public struct Alert: Sendable, Equatable {
    public var id: String
    public var destinationID: String
    public var throttleKey: String
    /// Destination, function, account, reason and action: what throttling groups by.
    public var groupKey: String
    /// A follow-up alert counts the events of a window after its first alert was sent.
    public var followUp: Bool
    public var windowEndMs: Int64
    public var firstEventID: Int64
    public var lastEventID: Int64
    public var count: Int64
    public var severity: String
    public var event: AlertEvent
    public var createdMs: Int64
    public var state: AlertState = .pending
    public var attempts: Int64 = 0
    public var nextAttemptMs: Int64
    public var lastError: String?
    public var deliveredMs: Int64?
}
