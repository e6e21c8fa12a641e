import Foundation
import KitsuneFindings

/// `requirements*.txt` (and `*.txt` under a `requirements/` folder): pinned `name==version` /
/// `name===version` lines become packages (source `manifest`: a lockfile or installed copy next to it
/// wins); unpinned requirements cannot be matched and are reported (severity info) with their line.
struct RequirementsCataloger: PackageCataloger {
    var source: PackageSource { .manifest }

    func accepts(path: String, header: [UInt8]) -> Bool {
        let base = pkgBaseName(path)
        guard base.hasSuffix(".txt") else { return false }
        return base.hasPrefix("requirements") || base.hasPrefix("constraints") || path.contains("requirements/")
    }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path, source: source)
        var pending = ""
        var pendingLine = 0
        for (i, raw) in CatalogContext.lines(entry.bytes).enumerated() {
            var line = String(raw)
            if pending.isEmpty { pendingLine = i + 1 }
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            line = pending + line
            pending = ""
            if let hash = line.range(of: " #") ?? (line.hasPrefix("#") ? line.range(of: "#") : nil) {
                line = String(line[..<hash.lowerBound])
            }
            line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("-") { continue }   // options: -r, -c, -e, --hash, --index-url
            if line.contains("://") || line.hasPrefix(".") || line.hasPrefix("/") { continue } // URLs and paths
            if let opt = line.range(of: " --") { line = String(line[..<opt.lowerBound]) }
            switch PythonRequirement.parse(line) {
            case .pinned(let name, let version): ctx.add("PyPI", name, version)
            case .inexactPin(let name, let spec):
                ctx.problem(line: pendingLine, "\(name): not an exact version pin (\(spec)); it cannot be matched", severity: .info)
            case .unpinned(let name, let spec):
                ctx.problem(line: pendingLine, "\(name) is not pinned with == (\(spec.isEmpty ? "no version" : spec)); "
                            + "its installed version is unknown and it is not matched against advisories", severity: .info)
            case .invalid(let why): ctx.problem(line: pendingLine, why)
            }
        }
        return ctx.result
    }
}

/// One PEP 508 requirement (`name[extras] ==1.2 ; marker`), as far as version pinning goes.
enum PythonRequirement: Equatable {
    /// `==V` or `===V` with a single exact version (no wildcard): what gets installed.
    case pinned(name: String, version: String)
    /// `==` with a wildcard, a list or spaces: not one version.
    case inexactPin(name: String, spec: String)
    /// A range (`>=`, `~=`, `<`, `!=`) or no version at all.
    case unpinned(name: String, spec: String)
    case invalid(String)

    static func parse(_ text: String) -> PythonRequirement {
        var line = text.trimmingCharacters(in: .whitespaces)
        // Drop environment markers.
        if let semi = line.firstIndex(of: ";") { line = String(line[..<semi]).trimmingCharacters(in: .whitespaces) }
        let nameEnd = line.firstIndex { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") } ?? line.endIndex
        let name = String(line[..<nameEnd])
        guard !name.isEmpty, name.first?.isLetter == true || name.first?.isNumber == true else {
            return .invalid("not a requirement: \"\(line.prefix(80))\"")
        }
        var rest = line[nameEnd...].trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .invalid("unterminated extras in \"\(line.prefix(80))\"") }
            rest = rest[rest.index(after: close)...].trimmingCharacters(in: .whitespaces)
        }
        if rest.hasPrefix("(") && rest.hasSuffix(")") { rest = String(rest.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces) }
        let normalized = EcosystemTable.pep503(name)
        if rest.hasPrefix("===") || (rest.hasPrefix("==") && !rest.contains(",")) {
            let version = rest.drop(while: { $0 == "=" }).trimmingCharacters(in: .whitespaces)
            guard !version.isEmpty, !version.contains("*"), version.allSatisfy({ !$0.isWhitespace }) else {
                return .inexactPin(name: name, spec: rest)
            }
            return .pinned(name: normalized, version: version)
        }
        if rest.isEmpty || "<>=!~".contains(rest.first ?? " ") { return .unpinned(name: name, spec: rest) }
        return .invalid("cannot parse requirement \"\(line.prefix(80))\"")
    }
}

/// `Pipfile.lock`: `default` and `develop` sections, `"version": "==1.2.3"`.
struct PipfileLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "Pipfile.lock" }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        guard let any = ctx.json(entry.bytes) else { return ctx.result }
        guard let root = any as? [String: Any] else { ctx.problem(line: 1, "expected a JSON object"); return ctx.result }
        for section in ["default", "develop"] {
            guard let deps = root[section] as? [String: Any] else { continue }
            for (name, value) in deps.sorted(by: { $0.key < $1.key }) {
                guard let info = value as? [String: Any] else { ctx.problem(line: ctx.line(of: "\"\(name)\"", in: entry.bytes), "\(section).\(name) is not an object"); continue }
                guard let v = info["version"] as? String else { continue } // git/path dependencies
                guard v.hasPrefix("==") else { ctx.problem(line: ctx.line(of: "\"\(name)\"", in: entry.bytes), "\(section).\(name): version \(v) is not pinned", severity: .info); continue }
                ctx.add("PyPI", name, String(v.dropFirst(2)))
            }
        }
        return ctx.result
    }
}

/// `poetry.lock`: `[[package]]` tables with `name` and `version`.
struct PoetryLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "poetry.lock" }
    func packages(in entry: ScanEntry) -> CatalogResult {
        catalogTOMLPackages(entry, ecosystem: "PyPI") { values in
            // Local directory/file/git packages are the project's own, not PyPI releases.
            let type = values["source.type"] ?? ""
            return !(type.contains("directory") || type.contains("file") || type.contains("git"))
        }
    }
}

/// `uv.lock`: `[[package]]` tables; editable/virtual/path sources are the project itself and skipped.
struct UvLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "uv.lock" }
    func packages(in entry: ScanEntry) -> CatalogResult {
        catalogTOMLPackages(entry, ecosystem: "PyPI") { values in
            let source = values["source"] ?? ""
            return !["editable", "virtual", "directory", "path", "git"].contains { source.contains($0) }
        }
    }
}

/// Shared `[[package]]` reader for TOML lockfiles.
func catalogTOMLPackages(_ entry: ScanEntry, ecosystem: String, keep: ([String: String]) -> Bool) -> CatalogResult {
    var ctx = CatalogContext(entry.path)
    let toml = LockTOML(bytes: entry.bytes, arrayName: "package")
    for p in toml.problems { ctx.problem(line: p.line, p.message) }
    for t in toml.tables {
        guard let name = t.values["name"], let version = t.values["version"] else {
            ctx.problem(line: t.line, "[[package]] without name and version"); continue
        }
        if keep(t.values) { ctx.add(ecosystem, name, version) }
    }
    return ctx.result
}

/// Installed Python distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, a `*.egg-info` file,
/// and `*.egg/EGG-INFO/PKG-INFO` (core metadata, RFC 822 headers).
struct PythonMetadataCataloger: PackageCataloger {
    var source: PackageSource { .installed }

    func accepts(path: String, header: [UInt8]) -> Bool {
        let parts = path.split(separator: "/")
        guard let base = parts.last else { return false }
        if base.hasSuffix(".egg-info") { return true }      // old setuptools: the egg-info is a single file
        guard parts.count >= 2 else { return false }
        let dir = parts[parts.count - 2]
        return (base == "METADATA" && dir.hasSuffix(".dist-info"))
            || (base == "PKG-INFO" && (dir.hasSuffix(".egg-info") || dir == "EGG-INFO"))
    }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        var name: String?, version: String?
        for line in CatalogContext.lines(entry.bytes) {
            if line.isEmpty { break }  // end of headers; the body is the long description
            if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("Version:") { version = line.dropFirst(8).trimmingCharacters(in: .whitespaces) }
        }
        guard let name, !name.isEmpty, let version, !version.isEmpty else {
            ctx.problem(line: 1, "no Name: and Version: headers (not a core metadata file)"); return ctx.result
        }
        ctx.add("PyPI", name, version)
        return ctx.result
    }
}
