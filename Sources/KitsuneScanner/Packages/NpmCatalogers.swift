import Foundation
import KitsuneFindings
import Yams

/// `package-lock.json` / `npm-shrinkwrap.json` / `node_modules/.package-lock.json`, lockfile versions 1 (`dependencies` tree), 2 and 3
/// (`packages` map keyed by install path; v2 also carries the v1 tree, `packages` is preferred).
struct NpmLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool {
        let base = pkgBaseName(path)
        // `node_modules/.package-lock.json` is npm's hidden lockfile (v7+), same format as v2/v3.
        return base == "package-lock.json" || base == "npm-shrinkwrap.json" || base == ".package-lock.json"
    }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        guard let any = ctx.json(entry.bytes) else { return ctx.result }
        guard let root = any as? [String: Any] else {
            ctx.problem(line: 1, "expected a JSON object at the top level"); return ctx.result
        }
        let lockVersion = root["lockfileVersion"] as? Int ?? 1
        if let packages = root["packages"] as? [String: Any], lockVersion >= 2 {
            for (key, value) in packages.sorted(by: { $0.key < $1.key }) where !key.isEmpty {
                guard let info = value as? [String: Any] else {
                    ctx.problem(line: ctx.line(of: "\"\(key)\"", in: entry.bytes), "packages[\"\(key)\"] is not an object"); continue
                }
                if info["link"] as? Bool == true { continue }
                guard let r = key.range(of: "node_modules/", options: .backwards) else { continue } // workspace folder
                let name = info["name"] as? String ?? String(key[r.upperBound...])
                guard let version = info["version"] as? String else {
                    ctx.problem(line: ctx.line(of: "\"\(key)\"", in: entry.bytes), "packages[\"\(key)\"] has no version"); continue
                }
                ctx.add("npm", name, version)
            }
        } else if let deps = root["dependencies"] as? [String: Any] {
            walkV1(deps, &ctx, trail: "dependencies", bytes: entry.bytes)
        } else if root["packages"] == nil && root["dependencies"] == nil && root["lockfileVersion"] == nil {
            ctx.problem(line: 1, "neither \"packages\" nor \"dependencies\" present: not an npm lockfile")
        }
        return ctx.result
    }

    private func walkV1(_ deps: [String: Any], _ ctx: inout CatalogContext, trail: String, bytes: [UInt8], depth: Int = 0) {
        guard depth < 64 else { ctx.problem(line: nil, "\(trail): dependency tree deeper than 64 levels"); return }
        for (name, value) in deps.sorted(by: { $0.key < $1.key }) {
            guard let info = value as? [String: Any] else {
                ctx.problem(line: ctx.line(of: "\"\(name)\"", in: bytes), "\(trail).\(name) is not an object"); continue
            }
            if let version = info["version"] as? String {
                // `file:`/`git+` versions are not registry versions.
                if !version.contains(":") { ctx.add("npm", name, version) }
            } else {
                ctx.problem(line: ctx.line(of: "\"\(name)\"", in: bytes), "\(trail).\(name) has no version")
            }
            if let nested = info["dependencies"] as? [String: Any] {
                walkV1(nested, &ctx, trail: "\(trail).\(name).dependencies", bytes: bytes, depth: depth + 1)
            }
        }
    }
}

/// Installed packages: `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json`
/// (at any nesting depth, not files deeper inside a package).
struct NodeModulesCataloger: PackageCataloger {
    var source: PackageSource { .installed }

    func accepts(path: String, header: [UInt8]) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[parts.count - 1] == "package.json" else { return false }
        if parts[parts.count - 3] == "node_modules" { return !parts[parts.count - 2].hasPrefix("@") }
        return parts.count >= 4 && parts[parts.count - 4] == "node_modules" && parts[parts.count - 3].hasPrefix("@")
    }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        guard let any = ctx.json(entry.bytes) else { return ctx.result }
        guard let obj = any as? [String: Any] else {
            ctx.problem(line: 1, "expected a JSON object"); return ctx.result
        }
        guard let name = obj["name"] as? String, let version = obj["version"] as? String else {
            ctx.problem(line: 1, "package.json has no \"name\" and \"version\" strings"); return ctx.result
        }
        ctx.add("npm", name, version)
        return ctx.result
    }
}

/// `yarn.lock`: classic (v1, `version "x"`) and Berry (v2+, YAML-like `version: x`, `resolution:`).
struct YarnLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "yarn.lock" }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        var current: (name: String, line: Int)?
        var sawVersion = false
        func close(_ ctx: inout CatalogContext) {
            if let c = current, !sawVersion { ctx.problem(line: c.line, "entry \(c.name) has no version") }
            current = nil
        }
        for (i, raw) in CatalogContext.lines(entry.bytes).enumerated() {
            let n = i + 1
            let line = raw
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            if !line.hasPrefix(" ") {
                close(&ctx)
                guard line.hasSuffix(":") else { ctx.problem(line: n, "expected an entry header ending in ':'"); continue }
                let specs = line.dropLast().split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"' ")) }
                guard let first = specs.first, !first.isEmpty else { ctx.problem(line: n, "empty entry header"); continue }
                if first == "__metadata" { current = nil; sawVersion = true; continue }
                guard let name = Self.name(fromSpec: first) else {
                    ctx.problem(line: n, "cannot read a package name from \"\(first)\""); continue
                }
                // Workspace and local entries (Berry) are the project itself, not third-party packages.
                if first.contains("@workspace:") || first.contains("@link:") || first.contains("@portal:") || first.contains("@file:") {
                    current = nil; sawVersion = true; continue
                }
                current = (name, n); sawVersion = false
                continue
            }
            let t = line.trimmingCharacters(in: .whitespaces)
            // Only the entry's own fields (two-space indent) matter.
            guard let c = current, !sawVersion, line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            if t.hasPrefix("version ") || t.hasPrefix("version:") {
                let v = pkgUnquote(t.dropFirst("version".count).drop(while: { $0 == ":" || $0 == " " }))
                guard !v.isEmpty else { ctx.problem(line: n, "empty version for \(c.name)"); continue }
                sawVersion = true
                if v != "0.0.0-use.local" { ctx.add("npm", c.name, v) }
            }
        }
        close(&ctx)
        return ctx.result
    }

    /// `lodash@^4.17.20`, `@babel/core@npm:^7.0.0`, `"@scope/x@1.x"` → the package name.
    static func name(fromSpec spec: String) -> String? {
        let body = spec.hasPrefix("@") ? spec.dropFirst() : Substring(spec)
        guard let at = body.firstIndex(of: "@") else { return nil }
        let name = (spec.hasPrefix("@") ? "@" : "") + body[..<at]
        return name.isEmpty || name == "@" ? nil : name
    }
}

/// `pnpm-lock.yaml` (lockfile 5.x `/name/1.0.0_peer`, 6.x `/name@1.0.0(peer)`, 9.x `name@1.0.0`).
struct PnpmLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "pnpm-lock.yaml" }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        let doc: Any?
        do { doc = try Yams.load(yaml: String(decoding: entry.bytes, as: UTF8.self)) } catch {
            ctx.problem(line: pkgYAMLLine(error), "invalid YAML: \(error)"); return ctx.result
        }
        guard let root = doc as? [String: Any] else { ctx.problem(line: 1, "expected a YAML mapping"); return ctx.result }
        guard let packages = root["packages"] as? [String: Any] else { return ctx.result }
        // Lockfile 5.x keys are `/name/version`; 6.x and later `/name@version` or `name@version`.
        let lockVersion = Double("\(root["lockfileVersion"] ?? "")") ?? 9
        for key in packages.keys.sorted() {
            guard let (name, version) = Self.parse(key: key, slashForm: lockVersion < 6) else {
                ctx.problem(line: ctx.line(of: key, in: entry.bytes), "cannot read name and version from packages key \"\(key)\""); continue
            }
            if version.contains(":") || version.contains("/") { continue } // link:, file:, tarball URLs
            ctx.add("npm", name, version)
        }
        return ctx.result
    }

    static func parse(key: String, slashForm: Bool) -> (String, String)? {
        var k = Substring(key)
        if k.hasPrefix("/") { k = k.dropFirst() }
        if let paren = k.firstIndex(of: "(") { k = k[..<paren] }
        let body = k.hasPrefix("@") ? k.dropFirst() : k
        if !slashForm, let at = body.lastIndex(of: "@") {
            let name = (k.hasPrefix("@") ? "@" : "") + body[..<at]
            let version = body[body.index(after: at)...]
            return name.isEmpty || version.isEmpty ? nil : (name, String(version))
        }
        // 5.x: /name/version or /@scope/name/version, peer suffix after "_".
        guard let slash = k.lastIndex(of: "/") else { return nil }
        var version = k[k.index(after: slash)...]
        if let u = version.firstIndex(of: "_") { version = version[..<u] }
        let name = k[..<slash]
        return name.isEmpty || version.isEmpty ? nil : (String(name), String(version))
    }
}

/// The line number in a Yams error, when it has one.
func pkgYAMLLine(_ error: any Error) -> Int? {
    if let e = error as? YamlError {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default: return nil
        }
    }
    return nil
}
