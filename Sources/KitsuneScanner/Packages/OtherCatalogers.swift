import Foundation
import KitsuneFindings

/// `Cargo.lock`: `[[package]]` entries from a registry (`source = "registry+…"` or sparse); path and
/// git crates (workspace members, forks) are not crates.io releases and are skipped.
struct CargoLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "Cargo.lock" }
    func packages(in entry: ScanEntry) -> CatalogResult {
        catalogTOMLPackages(entry, ecosystem: "crates.io") { values in
            guard let source = values["source"] else { return false }
            return source.hasPrefix("registry+") || source.hasPrefix("sparse+")
        }
    }
}

/// SwiftPM `Package.resolved` v1 (`object.pins[].repositoryURL`) and v2/v3 (`pins[].location`);
/// pins without a version (branch or revision) are skipped. Ecosystem `SwiftURL`, name = URL.
struct SwiftResolvedCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "Package.resolved" }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        guard let any = ctx.json(entry.bytes) else { return ctx.result }
        guard let root = any as? [String: Any] else { ctx.problem(line: 1, "expected a JSON object"); return ctx.result }
        let format = root["version"] as? Int ?? 0
        let pins: [Any]
        if format == 1, let object = root["object"] as? [String: Any], let p = object["pins"] as? [Any] { pins = p } else if let p = root["pins"] as? [Any] { pins = p } else {
            ctx.problem(line: 1, "no pins (unsupported Package.resolved version \(format))"); return ctx.result
        }
        for (i, pin) in pins.enumerated() {
            guard let p = pin as? [String: Any], let url = (p["location"] ?? p["repositoryURL"]) as? String,
                  let state = p["state"] as? [String: Any] else {
                ctx.problem(line: nil, "pins[\(i)] lacks location/repositoryURL or state"); continue
            }
            guard let version = state["version"] as? String else { continue }
            var name = url
            if name.hasSuffix(".git") { name.removeLast(4) }
            if let r = name.range(of: "://") { name = String(name[r.upperBound...]) }
            ctx.add("SwiftURL", name, version)
        }
        return ctx.result
    }
}

/// `composer.lock`: `packages` and `packages-dev` (name, version; a leading `v` is dropped).
struct ComposerLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "composer.lock" }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        guard let any = ctx.json(entry.bytes) else { return ctx.result }
        guard let root = any as? [String: Any] else { ctx.problem(line: 1, "expected a JSON object"); return ctx.result }
        for section in ["packages", "packages-dev"] {
            guard let list = root[section] as? [Any] else { continue }
            for (i, item) in list.enumerated() {
                guard let p = item as? [String: Any], let name = p["name"] as? String, let version = p["version"] as? String else {
                    ctx.problem(line: nil, "\(section)[\(i)] lacks name or version"); continue
                }
                if version.hasPrefix("dev-") { continue }  // branch checkouts
                ctx.add("Packagist", name, version.hasPrefix("v") ? String(version.dropFirst()) : version)
            }
        }
        return ctx.result
    }
}

/// Jars: `META-INF/maven/<groupId>/<artifactId>/pom.properties` (also inside nested jars, which the
/// walker presents as `a.jar!/META-INF/…`). Name `groupId:artifactId`.
struct MavenPomPropertiesCataloger: PackageCataloger {
    var source: PackageSource { .installed }

    func accepts(path: String, header: [UInt8]) -> Bool {
        pkgBaseName(path) == "pom.properties" && path.contains("META-INF/maven/")
    }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        var props: [String: String] = [:]
        for (i, raw) in CatalogContext.lines(entry.bytes).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                ctx.problem(line: i + 1, "expected key=value"); continue
            }
            props[line[..<sep].trimmingCharacters(in: .whitespaces)] = line[line.index(after: sep)...].trimmingCharacters(in: .whitespaces)
        }
        guard let g = props["groupId"], let a = props["artifactId"], let v = props["version"], !g.isEmpty, !a.isEmpty, !v.isEmpty else {
            ctx.problem(line: nil, "pom.properties lacks groupId, artifactId or version"); return ctx.result
        }
        ctx.add("Maven", "\(g):\(a)", v)
        return ctx.result
    }
}
