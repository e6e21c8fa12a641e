import Foundation
import KitsunePolicy

/// An executable a function was seen running (`mode: learn` reports each once per cold start).
public struct ExecutableObservation: Sendable, Equatable {
    public var path: String
    public var count: Int64
    public var firstMs: Int64
    public var lastMs: Int64
}

/// The allowlist policy proposed for one function from what it was seen running. Learning trusts
/// what it saw, and what it saw may include an attacker's binary: only executables under the
/// directories a function's code and runtime come from are proposed; anything else (`/tmp`,
/// `/dev/shm`, odd bytes) is listed in a comment as "not proposed", for a human to look at.
public struct SuggestedPolicy: Sendable {
    /// Where a legitimate Lambda executable lives.
    public static let trustedPrefixes = ["/var/task/", "/opt/", "/var/lang/", "/var/runtime/", "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/"]

    public var proposed: [String] = []
    public var refused: [String] = []
    /// The YAML document (a runtime policy scoped to exactly this function, in audit mode).
    public var document: String

    public init(function: InventoryFunction, observations: [ExecutableObservation]) {
        for o in observations.sorted(by: { $0.path < $1.path }) {
            let clean = o.path.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
            if clean, !o.path.contains("/../"), Self.trustedPrefixes.contains(where: o.path.hasPrefix) { proposed.append(o.path) } else { refused.append(o.path) }
        }
        let first = observations.map(\.firstMs).min().map(Timestamps.format) ?? "-"
        let last = observations.map(\.lastMs).max().map(Timestamps.format) ?? "-"
        var lines = [
            "# Proposed by Kitsune for \(function.name) (\(function.accountID), \(function.region)) from \(observations.count) executables",
            "# observed in learn mode between \(first) and \(last). Review it, then adopt it (audit first, enforce when quiet).",
        ]
        for path in refused.prefix(50) {
            lines.append("# not proposed (outside the code and runtime directories): " + String(path.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }).prefix(200))
        }
        lines += [
            "name: \(Self.name(for: function.name))",
            "mode: audit",
            "priority: 100",
            "scope:",
            "  functions: [\"\(function.name)\"]",
            "  accounts: [\"\(function.accountID)\"]",
            "  regions: [\"\(function.region)\"]",
        ]
        lines.append(proposed.isEmpty ? "# nothing observed yet: no allow list" : "allow: [" + proposed.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
        document = lines.joined(separator: "\n") + "\n"
    }

    /// `learned-FUNCTION`, cut to a valid policy name.
    public static func name(for function: String) -> String {
        "learned-" + String(function.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }.prefix(56))
    }
}

extension ServerStore {
    /// The distinct executables a function reported in learn mode (`action: observed`).
    public func observedExecutables(function: String, account: String, region: String, limit: Int = 1000) async throws(StoreError) -> [ExecutableObservation] {
        try await database.query(SQLStatement("""
            SELECT executable, COUNT(*), MIN(time_ms), MAX(time_ms) FROM events
            WHERE function_name = ? AND (account_id = ? OR account_id IS NULL) AND (region = ? OR region IS NULL)
              AND action = 'observed' AND executable IS NOT NULL
            GROUP BY executable ORDER BY executable LIMIT ?
            """, [.text(function), .text(account), .text(region), .int(Int64(limit))])).map {
            ExecutableObservation(path: $0.text(0) ?? "", count: $0.int(1), firstMs: $0.int(2), lastMs: $0.int(3))
        }
    }
}
