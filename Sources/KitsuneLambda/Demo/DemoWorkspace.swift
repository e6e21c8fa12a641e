import Foundation
import KitsunePolicy
#if canImport(Glibc)
import Glibc
#endif

/// What the host must provide for the demo, found by `DemoHost.check`.
public struct DemoHost: Sendable, Equatable {
    /// The `kitsune-enforcer` binary baked into the layer.
    public var enforcer: URL
    /// The Lambda runtime id the function runs on (first of the story's runtimes available here).
    public var runtime: String
    /// The host interpreter of that runtime (it must import awslambdaric).
    public var interpreter: String

    /// Checks, in order: root, the enforcer (`enforcer`, else the one next to `kitsune`, see
    /// `EnforcerBinary.locate()`), a Python interpreter for one of `runtimes`, awslambdaric.
    public static func check(enforcer: URL?, runtimes: [String]) throws(DemoError) -> DemoHost {
        guard getuid() == 0 else { throw .notRoot }
        let binary: URL
        if let enforcer {
            guard FileManager.default.isExecutableFile(atPath: enforcer.path) else { throw .enforcerMissing(enforcer.path) }
            binary = enforcer
        } else {
            guard let found = EnforcerBinary.locate() else {
                let named = ProcessInfo.processInfo.environment["KITSUNE_ENFORCER"].flatMap { $0.isEmpty ? nil : $0 }
                throw .enforcerMissing(named.map { "\($0) (KITSUNE_ENFORCER)" })
            }
            binary = URL(fileURLWithPath: found)
        }
        let catalog: RuntimeCatalog
        do { catalog = try RuntimeCatalog.bundled() } catch { throw .setup("\(error)") }
        for id in runtimes {
            guard let spec = catalog.runtimes[id],
                  let interpreter = spec.interpreters?.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { continue }
            guard imports(interpreter, module: "awslambdaric") else { throw .awslambdaricMissing(interpreter: interpreter) }
            return DemoHost(enforcer: binary, runtime: id, interpreter: interpreter)
        }
        throw .pythonMissing(runtimes)
    }

    /// Whether `interpreter -c "import MODULE"` succeeds.
    static func imports(_ interpreter: String, module: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: interpreter)
        p.arguments = ["-c", "import \(module)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}

/// The demo's policy: the layer's default policy text, with `mode` set and the function's `allow:`
/// list appended (everything else, a `honeypot:` section included, is kept as is).
public enum DemoPolicy {
    /// The policy text for `mode`. Fails when `base` already has an `allow:` list (a second key would
    /// be refused by the parser) or when `allow` is empty.
    public static func text(base: String, mode: DemoMode, allow: [String]) throws(DemoError) -> String {
        guard !allow.isEmpty else { throw .setup("the demo story has an empty allow list") }
        var lines = base.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        if lines.contains(where: { topLevelKey($0) == "allow" }) {
            throw .setup("the layer's default policy (Data/layer/policy.yaml) already has an `allow:` list; the demo cannot add its own")
        }
        if let i = lines.firstIndex(where: { topLevelKey($0) == "mode" }) {
            lines[i] = "mode: \(mode.rawValue)"
        } else {
            lines.append("mode: \(mode.rawValue)")
        }
        lines.append("# kitsune demo: the only programs the demo function runs")
        lines.append("allow: [\(allow.joined(separator: ", "))]")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Whether the policy text has a top-level `honeypot:` section.
    public static func hasHoneypot(_ text: String) -> Bool {
        text.components(separatedBy: "\n").contains { topLevelKey($0) == "honeypot" }
    }

    /// The key of a top-level mapping line (`mode: enforce` → `mode`), `nil` for other lines.
    static func topLevelKey(_ line: String) -> String? {
        guard let first = line.first, first.isLetter, let colon = line.firstIndex(of: ":") else { return nil }
        return String(line[..<colon])
    }
}

/// The demo's working directory: the function package and one layer per mode.
///
/// ```
/// kitsune-demo-XXXXXX/function/app.py, bin/convert
/// kitsune-demo-XXXXXX/layer-enforce/kitsune/{bin/kitsune-enforcer, wrapper, policy.yaml}
/// kitsune-demo-XXXXXX/layer-audit/...
/// ```
struct DemoWorkspace {
    /// The directory holding everything.
    let root: URL

    /// The function package (mounted at /var/task).
    var function: URL { root.appendingPathComponent("function") }

    /// The layer directory for `mode` (merged into /opt).
    func layer(_ mode: DemoMode) -> URL { root.appendingPathComponent("layer-\(mode.rawValue)") }

    /// A new directory under `parent`, readable by the sandbox user.
    static func create(in parent: URL) throws(DemoError) -> DemoWorkspace {
        var template = Array(parent.appendingPathComponent("kitsune-demo-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else {
            throw .setup("cannot create a working directory in \(parent.path): \(String(cString: strerror(errno)))")
        }
        let root = String(cString: made)
        chmod(root, 0o755)
        return DemoWorkspace(root: URL(fileURLWithPath: root))
    }

    /// Writes the function package: the handler source and the packaged files with their modes.
    func writeFunction(_ story: DemoStory) throws(DemoError) {
        let fn = story.function
        do {
            try makeDirectory(function)
            let source = function.appendingPathComponent(fn.source)
            try DemoResources.data(fn.source).write(to: source)
            chmod(source.path, 0o644)
            for file in fn.files {
                guard let mode = mode_t(file.mode, radix: 8), mode <= 0o777 else {
                    throw DemoError.setup("demo file \(file.to): mode '\(file.mode)' is not an octal file mode")
                }
                guard !file.to.hasPrefix("/"), !file.to.split(separator: "/").contains("..") else {
                    throw DemoError.setup("demo file \(file.to) must stay inside the package")
                }
                let dest = function.appendingPathComponent(file.to)
                try makeDirectory(dest.deletingLastPathComponent())
                guard let data = FileManager.default.contents(atPath: file.copy) else {
                    throw DemoError.setup("\(file.copy) is missing: the demo packages it as /var/task/\(file.to) (install coreutils)")
                }
                try data.write(to: dest)
                chmod(dest.path, mode)
            }
        } catch let error as DemoError {
            throw error
        } catch {
            throw .setup("cannot write the demo function into \(function.path): \(error.localizedDescription)")
        }
    }

    /// Writes the layer for `mode` with `policy` baked in (validated by the enforcer itself).
    func writeLayer(_ mode: DemoMode, enforcer: URL, policy: String) throws(DemoError) {
        let dir = layer(mode)
        let file = root.appendingPathComponent("policy-\(mode.rawValue).yaml")
        do {
            try Data(policy.utf8).write(to: file)
            try makeDirectory(dir)
            try LayerBuilder.install(enforcer: enforcer, policy: file, into: dir)
        } catch {
            throw .setup("cannot build the Kitsune layer for \(mode.rawValue) mode: \(error)")
        }
        makeReadable(dir)
    }

    /// Removes the working directory.
    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    private func makeDirectory(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o755)
    }

    /// `chmod -R a+rX`: directories must be traversable by the sandbox user whatever the umask was.
    private func makeReadable(_ dir: URL) {
        chmod(dir.path, 0o755)
        guard let walker = FileManager.default.enumerator(atPath: dir.path) else { return }
        for case let name as String in walker {
            let path = dir.appendingPathComponent(name).path
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFLNK else { continue }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            let exec: mode_t = isDir || (st.st_mode & 0o111) != 0 ? 0o555 : 0o444
            chmod(path, (st.st_mode & 0o7777) | exec)
        }
    }
}
