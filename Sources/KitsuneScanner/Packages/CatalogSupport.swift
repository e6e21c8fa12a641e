import Foundation
import KitsuneFindings

/// Every package cataloger Kitsune ships, in the order they are tried.
public enum Catalogers {
    public static var all: [any PackageCataloger] {
        [NpmLockCataloger(), NodeModulesCataloger(), YarnLockCataloger(), PnpmLockCataloger(), PackageJSONCataloger(),
         RequirementsCataloger(), PipfileLockCataloger(), PipfileCataloger(), PyprojectCataloger(), PoetryLockCataloger(), UvLockCataloger(),
         PythonMetadataCataloger(), GemfileLockCataloger(), GoModCataloger(), GoBinaryCataloger(),
         CargoLockCataloger(), SwiftResolvedCataloger(), ComposerLockCataloger(), MavenPomPropertiesCataloger()]
    }

    /// Merges the same package (ecosystem, normalized name, version) found in several places into one
    /// ``DiscoveredPackage`` listing every location; output sorted by purl. A version seen in a lockfile,
    /// an installed copy or a binary makes the merged package resolved, even if a manifest also pins it.
    public static func merge(_ packages: [DiscoveredPackage], table: EcosystemTable = .shared) -> [DiscoveredPackage] {
        var merged: [String: DiscoveredPackage] = [:]
        for p in packages {
            let key = "\(p.ecosystem)\u{0}\(table.normalizedName(p.name, ecosystem: p.ecosystem))\u{0}\(p.version)"
            if var existing = merged[key] {
                for l in p.locations where !existing.locations.contains(l) { existing.locations.append(l) }
                if existing.source == .manifest && p.source.isResolved { existing.source = p.source }
                merged[key] = existing
            } else { merged[key] = p }
        }
        return merged.values.map { p in
            var p = p
            p.locations.sort()
            return p
        }.sorted { ($0.purl, $0.locations.first ?? "") < ($1.purl, $1.locations.first ?? "") }
    }
}

/// Shared helpers of the catalogers: package construction (purl, names) and problem findings.
struct CatalogContext {
    let path: String
    let table: EcosystemTable = .shared
    /// What the versions recorded here are (the scan stamps the cataloger's ``PackageCataloger/source`` too).
    let source: PackageSource
    var result = CatalogResult()

    init(_ path: String, source: PackageSource = .lockfile) {
        self.path = path
        self.source = source
    }

    /// Records a package found in this file (names normalized per ecosystem, purl built).
    mutating func add(_ ecosystem: String, _ name: String, _ version: String, evidence: String? = nil) {
        let n = name.trimmingCharacters(in: .whitespaces), v = version.trimmingCharacters(in: .whitespaces)
        guard !n.isEmpty, !v.isEmpty else { return }
        let display = ecosystem == "PyPI" ? EcosystemTable.pep503(n) : n
        result.packages.append(DiscoveredPackage(ecosystem: ecosystem, name: display, version: v,
                                                 locations: [evidence ?? path],
                                                 purl: table.purl(ecosystem: ecosystem, name: display, version: v),
                                                 source: source))
    }

    /// Records a problem with the file (kind `.inputError`) at a line.
    mutating func problem(line: Int?, _ message: String, severity: Severity = .low) {
        let where_ = line.map { "\(path):\($0)" } ?? path
        result.problems.append(Finding(
            id: "input-" + String("\(path)|\(line ?? 0)|\(message)".catalogHash, radix: 16),
            ruleID: "input/malformed-manifest", kind: .inputError, severity: severity,
            title: "Cannot fully read \(path)",
            message: "\(where_): \(message)", location: Location(path: path, line: line),
            remediation: "Fix or regenerate the file; packages it lists may be missing from the results."))
    }

    /// Parses JSON, reporting a syntax error with its line.
    mutating func json(_ bytes: [UInt8]) -> Any? {
        do { return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) } catch {
            let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            var line: Int?
            if let r = text.range(of: "character "), let n = Int(text[r.upperBound...].prefix(while: isASCIIDigit)) {
                line = Self.lineNumber(of: n, in: bytes)
            }
            problem(line: line, "invalid JSON: \(text)")
            return nil
        }
    }

    /// The line where `needle` first occurs in the file (used to place problems found in parsed JSON/YAML
    /// structures, e.g. the line of `"node_modules/x"` in a lockfile), or `nil`.
    func line(of needle: String, in bytes: [UInt8]) -> Int? {
        let n = Array(needle.utf8)
        guard let first = n.first, bytes.count >= n.count else { return nil }
        var i = 0
        while i <= bytes.count - n.count {
            if bytes[i] == first, bytes[i..<(i + n.count)].elementsEqual(n) { return Self.lineNumber(of: i, in: bytes) }
            i += 1
        }
        return nil
    }

    /// 1-based line of a byte offset.
    static func lineNumber(of offset: Int, in bytes: [UInt8]) -> Int {
        var line = 1
        for b in bytes.prefix(max(0, min(offset, bytes.count))) where b == 0x0A { line += 1 }
        return line
    }

    /// Lines of a text file (UTF-8, invalid bytes replaced), CR stripped.
    static func lines(_ bytes: [UInt8]) -> [Substring] {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
    }
}

extension String {
    /// FNV-1a, stable across runs (unlike `hashValue`).
    var catalogHash: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// The last path component of an entry path (nested archive separators included).
func pkgBaseName(_ path: String) -> Substring {
    path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path)
}

func pkgUnquote<S: StringProtocol>(_ s: S) -> String {
    var t = s.trimmingCharacters(in: .whitespaces)
    if t.count >= 2, (t.hasPrefix("\"") && t.hasSuffix("\"")) || (t.hasPrefix("'") && t.hasSuffix("'")) {
        t = String(t.dropFirst().dropLast())
    }
    return t
}
