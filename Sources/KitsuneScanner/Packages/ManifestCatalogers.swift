import Foundation
import KitsuneFindings

/// Manifests without a lockfile: the dependencies a project *declares*. Only exact pins become packages
/// (source `manifest`); ranges (`^1.2.3`, `>=2`, `*`) name no version and are listed, per manifest, in
/// one MANUAL finding (`input/unpinned-manifest`) instead. When a lockfile or installed copy in the same
/// directory (or below it) names the package, that resolved version wins (``ManifestResolution``).

/// A project's `package.json` (not the metadata of an installed package under `node_modules/`):
/// `dependencies` and `optionalDependencies`. `devDependencies` and `peerDependencies` are not
/// installed by `npm ci --omit=dev` into a deployed function and are left out.
struct PackageJSONCataloger: PackageCataloger {
    var source: PackageSource { .manifest }
    static let sections = ["dependencies", "optionalDependencies"]

    func accepts(path: String, header: [UInt8]) -> Bool {
        pkgBaseName(path) == "package.json" && !path.split(separator: "/").contains("node_modules")
    }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path, source: source)
        guard let any = ctx.json(entry.bytes) else { return ctx.result }
        guard let root = any as? [String: Any] else {
            ctx.problem(line: 1, "expected a JSON object at the top level"); return ctx.result
        }
        var unpinned: [String] = []
        for section in Self.sections {
            guard let value = root[section] else { continue }
            guard let deps = value as? [String: Any] else {
                ctx.problem(line: ctx.line(of: "\"\(section)\"", in: entry.bytes), "\"\(section)\" is not an object"); continue
            }
            for (name, spec) in deps.sorted(by: { $0.key < $1.key }) {
                guard let spec = spec as? String else {
                    ctx.problem(line: ctx.line(of: "\"\(name)\"", in: entry.bytes), "\(section).\(name) is not a version string"); continue
                }
                if let (resolvedName, version) = Self.exactPin(name: name, spec: spec) {
                    ctx.add("npm", resolvedName, version)
                } else {
                    unpinned.append("\(name) \(spec.isEmpty ? "(empty)" : spec)")
                }
            }
        }
        ManifestResolution.reportUnpinned(unpinned, ecosystem: "npm", in: &ctx)
        return ctx.result
    }

    /// `1.2.3`, `=1.2.3`, `v1.2.3`, `1.2.3-beta.1` (npm's exact versions) and `npm:other@1.2.3` (an alias
    /// of another package at an exact version). Ranges, tags, URLs and `file:`/`git` specs are not pins.
    static func exactPin(name: String, spec: String) -> (String, String)? {
        var spec = Substring(spec.trimmingCharacters(in: .whitespaces))
        var name = name
        if spec.hasPrefix("npm:") {
            let alias = spec.dropFirst(4)
            let body = alias.hasPrefix("@") ? alias.dropFirst() : alias
            guard let at = body.firstIndex(of: "@") else { return nil }
            name = (alias.hasPrefix("@") ? "@" : "") + String(body[..<at])
            spec = body[body.index(after: at)...]
        }
        if spec.hasPrefix("=") { spec = spec.dropFirst() }
        if spec.hasPrefix("v") { spec = spec.dropFirst() }
        let version = String(spec)
        let pattern = #"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"#
        guard !name.isEmpty, version.range(of: pattern, options: .regularExpression) != nil else { return nil }
        return (name, version)
    }
}

/// A Python manifest in TOML: the shared reading (problems, unpinned note); each format picks its tables.
protocol PythonTOMLManifest: PackageCataloger {
    var fileName: String { get }
    /// Records the pins of `toml` in `ctx` and the dependencies without an exact version in `unpinned`.
    func collect(_ toml: ManifestTOML, _ ctx: inout CatalogContext, _ unpinned: inout [String])
}

extension PythonTOMLManifest {
    var source: PackageSource { .manifest }

    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == fileName }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path, source: source)
        let toml = ManifestTOML(bytes: entry.bytes)
        for p in toml.problems { ctx.problem(line: p.line, p.message) }
        var unpinned: [String] = []
        collect(toml, &ctx, &unpinned)
        ManifestResolution.reportUnpinned(unpinned, ecosystem: "PyPI", in: &ctx)
        return ctx.result
    }
}

/// `Pipfile`: `[packages]` (`requests = "==2.31.0"`, `{version = "==2.31.0", extras = [...]}`).
/// `[dev-packages]` are not deployed with `pipenv install --deploy` and are left out.
struct PipfileCataloger: PythonTOMLManifest {
    var fileName: String { "Pipfile" }

    func collect(_ toml: ManifestTOML, _ ctx: inout CatalogContext, _ unpinned: inout [String]) {
        for item in toml.table("packages") {
            guard let spec = ManifestResolution.versionSpec(item.value) else { continue } // git/path/url: not PyPI
            ManifestResolution.addPython(item.key + " " + (spec == "*" ? "" : spec), line: item.line, &ctx, &unpinned)
        }
    }
}

/// `pyproject.toml`: PEP 621 `[project] dependencies = ["x==1.2", …]` and Poetry's
/// `[tool.poetry.dependencies]` (`x = "1.2.3"` and `x = "==1.2.3"` are exact in Poetry; `^`, `~`, `*`,
/// `>=` are ranges; `python` is the interpreter). Optional dependencies, dependency groups and Poetry
/// dev groups are not installed by default and are left out.
struct PyprojectCataloger: PythonTOMLManifest {
    var fileName: String { "pyproject.toml" }

    func collect(_ toml: ManifestTOML, _ ctx: inout CatalogContext, _ unpinned: inout [String]) {
        for item in toml.table("project") where item.key == "dependencies" {
            guard item.value.hasPrefix("[") else { ctx.problem(line: item.line, "project.dependencies is not an array"); continue }
            for requirement in ManifestTOML.strings(in: item.value) {
                ManifestResolution.addPython(requirement, line: item.line, &ctx, &unpinned)
            }
        }
        for item in toml.table("tool.poetry.dependencies") where item.key.lowercased() != "python" {
            guard var spec = ManifestResolution.versionSpec(item.value) else { continue }
            // Poetry: a bare version is exact (`1.2.3` means `==1.2.3`); caret and tilde are ranges.
            if let first = spec.first, first.isNumber { spec = "==" + spec }
            if spec.hasPrefix("^") || (spec.hasPrefix("~") && !spec.hasPrefix("~=")) {
                unpinned.append("\(item.key) \(spec)"); continue
            }
            ManifestResolution.addPython(item.key + " " + (spec == "*" ? "" : spec), line: item.line, &ctx, &unpinned)
        }
    }
}
