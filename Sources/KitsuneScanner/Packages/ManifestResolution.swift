import Foundation
import KitsuneFindings

/// Manifest pins next to lockfiles: a resolved version (lockfile, installed copy, binary) found in the
/// manifest's directory or below it supersedes what the manifest declares for that package, so a
/// package is never reported twice; a manifest's list of unpinned dependencies is dropped the same way
/// once a lockfile or installed tree of its ecosystem sits next to it.
enum ManifestResolution {
    static let unpinnedRule = "input/unpinned-manifest"
    static let listed = 20

    /// Packages with superseded manifest pins removed. A pin equal to the resolved version beside it is
    /// kept: ``Catalogers/merge(_:table:)`` folds it into the resolved package as one more location.
    static func resolve(_ packages: [DiscoveredPackage], table: EcosystemTable = .shared) -> [DiscoveredPackage] {
        var resolved: [String: [(version: String, location: String)]] = [:]   // ecosystem + normalized name
        for p in packages where p.source.isResolved {
            resolved[key(p.ecosystem, p.name, table), default: []] += p.locations.map { (p.version, $0) }
        }
        return packages.filter { p in
            guard p.source == .manifest else { return true }
            let beside = (resolved[key(p.ecosystem, p.name, table)] ?? []).filter { r in
                p.locations.contains { isBeside(manifest: $0, r.location) }
            }
            return beside.isEmpty || beside.contains { $0.version == p.version }
        }
    }

    /// Findings without the unpinned-dependency notes of manifests that have a resolved tree beside them.
    static func resolve(_ findings: [Finding], packages: [DiscoveredPackage]) -> [Finding] {
        let resolved = packages.filter { $0.source.isResolved }
        return findings.filter { f in
            guard f.ruleID == unpinnedRule, let manifest = f.location?.path, let ecosystem = f.properties["ecosystem"] else { return true }
            return !resolved.contains { $0.ecosystem == ecosystem && $0.locations.contains { isBeside(manifest: manifest, $0) } }
        }
    }

    private static func key(_ ecosystem: String, _ name: String, _ table: EcosystemTable) -> String {
        ecosystem + "\u{0}" + table.normalizedName(name, ecosystem: ecosystem)
    }

    /// Whether `location` is in the directory of `manifest` or below it.
    static func isBeside(manifest: String, _ location: String) -> Bool {
        guard let slash = manifest.lastIndex(of: "/") else { return true }   // manifest at the root
        return location.hasPrefix(manifest[...slash])
    }

    /// The version specifier of a Pipfile/Poetry value: a string, or an inline table's `version`; nil for
    /// git/path/url dependencies (not registry releases).
    static func versionSpec(_ value: String) -> String? {
        if value.hasPrefix("\"") || value.hasPrefix("'") { return LockTOML.string(value)?.trimmingCharacters(in: .whitespaces) }
        if value.hasPrefix("{") { return ManifestTOML.inlineString("version", in: value)?.trimmingCharacters(in: .whitespaces) }
        return nil
    }

    /// Records a PEP 508 requirement (`name==1.2`, `name>=2`, `name`) as a pin or an unpinned entry.
    static func addPython(_ requirement: String, line: Int, _ ctx: inout CatalogContext, _ unpinned: inout [String]) {
        switch PythonRequirement.parse(requirement) {
        case .pinned(let n, let v): ctx.add("PyPI", n, v)
        case .inexactPin(let n, let s), .unpinned(let n, let s): unpinned.append("\(n) \(s.isEmpty ? "(any)" : s)")
        case .invalid(let why): ctx.problem(line: line, why)
        }
    }

    /// One MANUAL finding per manifest listing its dependencies that have no exact version.
    static func reportUnpinned(_ unpinned: [String], ecosystem: String, in ctx: inout CatalogContext) {
        guard !unpinned.isEmpty else { return }
        let shown = unpinned.prefix(listed).joined(separator: ", ")
            + (unpinned.count > listed ? ", … (\(unpinned.count - listed) more)" : "")
        let path = ctx.path
        ctx.result.problems.append(Finding(
            id: "input-" + String("\(path)|unpinned".catalogHash, radix: 16), ruleID: unpinnedRule, kind: .inputError,
            status: .manual, severity: .info, title: "Declared dependencies without an exact version",
            message: "Could not evaluate \(unpinned.count) dependencies declared in \(path) without an exact version "
                + "(\(shown)): with no lockfile or installed copy beside it, the versions that get installed are unknown "
                + "and are not matched against advisories.",
            location: Location(path: path),
            remediation: "Ship the lockfile (package-lock.json, poetry.lock, Pipfile.lock, uv.lock) or the installed dependencies with the function, or pin exact versions.",
            properties: ["ecosystem": ecosystem, "unpinned": String(unpinned.count)]))
    }
}
