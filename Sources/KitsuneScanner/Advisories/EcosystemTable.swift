import Foundation

/// Per-ecosystem facts loaded from `Advisories/Data/ecosystems.json`: version ordering, how package
/// names are normalized for lookup, and the purl type.
public struct EcosystemTable: Sendable {
    public struct Entry: Decodable, Sendable {
        public var name: String
        public var ordering: String
        public var normalize: String
        public var purlType: String
    }
    struct File: Decodable { var ecosystems: [Entry] }

    public let entries: [String: Entry]

    /// The table shipped with Kitsune.
    public static func load() throws -> EcosystemTable {
        guard let url = Bundle.module.url(forResource: "ecosystems", withExtension: "json", subdirectory: "Data") else {
            throw AdvisoryError.resourceMissing("Data/ecosystems.json")
        }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        return EcosystemTable(entries: Dictionary(file.ecosystems.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// The shipped table, loaded once (immutable).
    public static let shared: EcosystemTable = (try? load()) ?? EcosystemTable(entries: [:])

    /// OSV ecosystem strings may carry a suffix (`Maven:https://…`, `Debian:11`): the base name.
    public static func baseEcosystem(_ ecosystem: String) -> String {
        ecosystem.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ecosystem
    }

    public func ordering(for ecosystem: String) -> (any VersionOrdering)? {
        entries[Self.baseEcosystem(ecosystem)].flatMap { VersionOrderings.named($0.ordering) }
    }

    /// The lookup key of a package name in an ecosystem (PEP 503 for PyPI, lowercase for crates.io…).
    public func normalizedName(_ name: String, ecosystem: String) -> String {
        switch entries[Self.baseEcosystem(ecosystem)]?.normalize ?? "none" {
        case "pep503": return Self.pep503(name)
        case "lowercase": return name.lowercased()
        case "swifturl":
            var s = name.lowercased()
            if s.hasSuffix(".git") { s.removeLast(4) }
            if let r = s.range(of: "://") { s = String(s[r.upperBound...]) }
            return s
        default: return name
        }
    }

    /// PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
    public static func pep503(_ name: String) -> String {
        var out = ""
        var lastSep = false
        for c in name.lowercased() {
            if c == "-" || c == "_" || c == "." {
                if !lastSep { out.append("-") }
                lastSep = true
            } else { out.append(c); lastSep = false }
        }
        return out
    }

    /// `pkg:<type>/<namespace>/<name>@<version>` per the purl spec for the ecosystem.
    public func purl(ecosystem: String, name: String, version: String) -> String {
        let base = Self.baseEcosystem(ecosystem)
        let type = entries[base]?.purlType ?? base.lowercased()
        func enc(_ s: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: ".-_~")
            return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
        }
        let path: String
        switch type {
        case "maven":
            let p = name.split(separator: ":", maxSplits: 1).map(String.init)
            path = p.count == 2 ? "\(enc(p[0]))/\(enc(p[1]))" : enc(name)
        case "npm":
            if name.hasPrefix("@"), let slash = name.firstIndex(of: "/") {
                path = "\(enc(String(name[..<slash])))/\(enc(String(name[name.index(after: slash)...])))"
            } else { path = enc(name) }
        case "pypi": path = enc(Self.pep503(name))
        case "golang", "composer", "swift":
            path = name.split(separator: "/").map { enc(String($0)) }.joined(separator: "/")
        default: path = enc(name)
        }
        return "pkg:\(type)/\(path)@\(enc(version))"
    }
}
