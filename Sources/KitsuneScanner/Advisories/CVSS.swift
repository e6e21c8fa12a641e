import Foundation
import KitsuneFindings

/// CVSS v3.0/v3.1 base score calculator (FIRST CVSS v3.1 specification §7.1, Appendix A for
/// `Roundup`). Metric weights and severity bands come from `Advisories/Data/cvss3.json`.
public struct CVSSCalculator: Sendable {
    struct Table: Decodable, Sendable {
        struct Band: Decodable, Sendable { var min: Double; var severity: Severity }
        var metrics: [String: [String: Double]]
        var bands: [Band]
        var database_severity: [String: Severity]
    }

    let table: Table

    /// Loads the weights from the module's resources.
    public static func load() throws -> CVSSCalculator {
        guard let url = Bundle.module.url(forResource: "cvss3", withExtension: "json", subdirectory: "Data") else {
            throw AdvisoryError.resourceMissing("Data/cvss3.json")
        }
        return CVSSCalculator(table: try JSONDecoder().decode(Table.self, from: Data(contentsOf: url)))
    }

    /// Why a vector was rejected.
    public struct VectorError: Error, CustomStringConvertible, Equatable {
        public let vector: String
        public let reason: String
        public var description: String { "invalid CVSS v3 vector \"\(vector)\": \(reason)" }
    }

    /// The base score (0.0–10.0) of a `CVSS:3.x/AV:…/AC:…/PR:…/UI:…/S:…/C:…/I:…/A:…` vector.
    /// Temporal/environmental metrics present in the vector are accepted and ignored (base score).
    public func baseScore(_ vector: String) throws -> Double {
        let parts = vector.split(separator: "/").map(String.init)
        guard let head = parts.first, head == "CVSS:3.1" || head == "CVSS:3.0" else {
            throw VectorError(vector: vector, reason: "must start with CVSS:3.0 or CVSS:3.1")
        }
        var m: [String: String] = [:]
        for p in parts.dropFirst() {
            let kv = p.split(separator: ":", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw VectorError(vector: vector, reason: "malformed metric \"\(p)\"") }
            guard m[kv[0]] == nil else { throw VectorError(vector: vector, reason: "metric \(kv[0]) repeated") }
            m[kv[0]] = kv[1]
        }
        guard let scope = m["S"], scope == "U" || scope == "C" else {
            throw VectorError(vector: vector, reason: "S (scope) must be U or C")
        }
        let changed = scope == "C"
        func w(_ metric: String, _ tableKey: String? = nil) throws -> Double {
            guard let value = m[metric] else { throw VectorError(vector: vector, reason: "missing metric \(metric)") }
            guard let weight = table.metrics[tableKey ?? metric]?[value] else {
                throw VectorError(vector: vector, reason: "bad value \(metric):\(value)")
            }
            return weight
        }
        let av = try w("AV"), ac = try w("AC"), pr = try w("PR", changed ? "PR_scope_changed" : "PR"), ui = try w("UI")
        let c = try w("C"), i = try w("I"), a = try w("A")
        let iss = 1 - (1 - c) * (1 - i) * (1 - a)
        let impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss
        let exploitability = 8.22 * av * ac * pr * ui
        if impact <= 0 { return 0 }
        let raw = changed ? min(1.08 * (impact + exploitability), 10) : min(impact + exploitability, 10)
        return head == "CVSS:3.1" ? Self.roundup31(raw) : (raw * 10).rounded(.up) / 10
    }

    /// CVSS v3.1 Appendix A `Roundup`: smallest one-decimal number ≥ input, robust to float error.
    static func roundup31(_ x: Double) -> Double {
        let intInput = Int((x * 100_000).rounded())
        if intInput % 10_000 == 0 { return Double(intInput) / 100_000 }
        return Double(intInput / 10_000 + 1) / 10
    }

    /// Qualitative band of a score (None → info, Low, Medium, High, Critical).
    public func severity(score: Double) -> Severity {
        table.bands.first { score >= $0.min }?.severity ?? .info
    }

    /// Maps a database-specific severity word (`MODERATE`, `HIGH`, …).
    public func severity(word: String) -> Severity? { table.database_severity[word.uppercased()] }
}

/// Errors of the advisory database and its import/update.
public enum AdvisoryError: Error, CustomStringConvertible, Equatable {
    case resourceMissing(String)
    case unreadable(path: String, reason: String)
    case invalidAdvisory(path: String, reason: String)
    case download(url: String, reason: String)

    public var description: String {
        switch self {
        case .resourceMissing(let r): return "Kitsune resource \(r) is missing from the installation"
        case .unreadable(let p, let r): return "cannot read \(p): \(r)"
        case .invalidAdvisory(let p, let r): return "invalid OSV advisory \(p): \(r)"
        case .download(let u, let r): return "download of \(u) failed: \(r)"
        }
    }
}
