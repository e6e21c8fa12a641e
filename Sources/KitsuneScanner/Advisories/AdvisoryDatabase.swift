import Foundation
import KitsuneFindings

/// The advisories Kitsune matches packages against: Kitsune database files (`*.kdb`, from
/// `kitsune db import`), or OSV data read directly (`all.zip` files, OSV JSON files or directories).
public struct AdvisoryDatabase: VulnerabilityMatcher {
    enum Source: Sendable {
        case file(AdvisoryStore.EcosystemFile)
        case memory([String: [StoredAdvisory]])
    }

    /// ecosystem → the sources holding advisories for it.
    let sources: [String: [Source]]
    let table: EcosystemTable
    let cvss: CVSSCalculator
    /// Where the advisories came from (for reports and `kitsune db` output).
    public let origins: [String]

    /// Opens each path: a directory holding `*.kdb` files, a `.kdb` file, an osv.dev `all.zip`,
    /// an OSV JSON file, or a directory of OSV JSON/zip files. No paths: the default location
    /// (``AdvisoryStore/defaultLocation(environment:)``).
    public static func open(paths: [String]) throws -> AdvisoryDatabase {
        let table = try EcosystemTable.load()
        let cvss = try CVSSCalculator.load()
        var list = paths
        if list.isEmpty {
            let def = AdvisoryStore.defaultLocation()
            guard FileManager.default.fileExists(atPath: def) else {
                throw AdvisoryError.unreadable(path: def, reason:
                    "no advisory database here; run `kitsune db import PATH` or `kitsune db update`, or pass --db")
            }
            list = [def]
        }
        var sources: [String: [Source]] = [:]
        var raw: [String] = []
        for path in list {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw AdvisoryError.unreadable(path: path, reason: "no such file or directory")
            }
            if path.hasSuffix("." + AdvisoryStore.fileExtension) {
                let f = try AdvisoryStore.EcosystemFile(path: path)
                sources[f.header.ecosystem, default: []].append(.file(f))
            } else if isDir.boolValue, let kdbs = try? FileManager.default.contentsOfDirectory(atPath: path)
                        .filter({ $0.hasSuffix("." + AdvisoryStore.fileExtension) }), !kdbs.isEmpty {
                for name in kdbs.sorted() {
                    let f = try AdvisoryStore.EcosystemFile(path: (path as NSString).appendingPathComponent(name))
                    sources[f.header.ecosystem, default: []].append(.file(f))
                }
            } else {
                raw.append(path)
            }
        }
        for path in raw {
            let imported = try AdvisoryImport.load(paths: [path], table: table)
            guard imported.advisories > 0 || !imported.withdrawn.isEmpty || imported.skippedEcosystems > 0 else {
                throw AdvisoryError.unreadable(path: path, reason: "no OSV advisories and no Kitsune database (*.kdb) here"
                    + (imported.problems.isEmpty ? "" : "; first problem: \(imported.problems[0])"))
            }
            for (eco, packages) in imported.packages { sources[eco, default: []].append(.memory(packages)) }
        }
        return AdvisoryDatabase(sources: sources, table: table, cvss: cvss, origins: list)
    }

    /// Ecosystems with at least one advisory.
    public var ecosystems: [String] { sources.keys.sorted() }

    /// The advisories for a package (all sources; the same id from two sources: newest `modified`).
    /// Throws when a database file's entry for the package is corrupt.
    public func advisories(ecosystem: String, name: String) throws -> [StoredAdvisory] {
        let eco = EcosystemTable.baseEcosystem(ecosystem)
        let key = table.normalizedName(name, ecosystem: eco)
        var byID: [String: StoredAdvisory] = [:]
        for source in sources[eco] ?? [] {
            let list: [StoredAdvisory]
            switch source {
            case .file(let f): list = try f.advisories(for: key)
            case .memory(let m): list = m[key] ?? []
            }
            for a in list where (byID[a.id]?.modified ?? "") <= (a.modified ?? "") { byID[a.id] = a }
        }
        return byID.values.sorted { $0.id < $1.id }
    }

    /// One `.vulnerability` finding per package and advisory (aliases merged into one finding).
    public func findings(for packages: [DiscoveredPackage]) -> [Finding] {
        let matcher = AdvisoryMatcher(table: table, cvss: cvss)
        return packages.flatMap { pkg -> [Finding] in
            do {
                return matcher.findings(for: pkg, advisories: try advisories(ecosystem: pkg.ecosystem, name: pkg.name))
            } catch {
                // A damaged database must not read as "no vulnerabilities".
                return [Finding(id: "advdb-" + String("\(pkg.purl)|\(error)".catalogHash, radix: 16),
                                ruleID: "advisory/database-error", kind: .inputError, severity: .medium,
                                title: "Advisory database unreadable for \(pkg.name)",
                                message: "\(pkg.ecosystem) package \(pkg.name) \(pkg.version) was not checked: \(error)",
                                location: pkg.locations.first.map { Location(path: $0) }, resource: "\(pkg.name)@\(pkg.version)",
                                remediation: "Re-create the database with `kitsune db import` or `kitsune db update`.")]
            }
        }.sorted { ($0.resource ?? "", $0.ruleID, $0.id) < ($1.resource ?? "", $1.ruleID, $1.id) }
    }
}

extension AdvisoryDatabase {
    /// One line per ecosystem source: name, advisory and package counts, import time.
    public func summary() -> [String] {
        ecosystems.flatMap { eco in
            (sources[eco] ?? []).map { source -> String in
                switch source {
                case .file(let f):
                    return "\(eco): \(f.header.advisories) advisories, \(f.header.index.count) packages, imported \(f.header.imported) (\(f.path))"
                case .memory(let m):
                    return "\(eco): \(Set(m.values.flatMap { $0.map(\.id) }).count) advisories, \(m.count) packages (read directly)"
                }
            }
        }
    }
}
