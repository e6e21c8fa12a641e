import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The host side of one sandbox: where `/var/task`, `/opt`, `/var/runtime` and `/tmp` come from.
///
/// Zips are extracted with `unzip` (it keeps modes and symlinks and refuses `../` paths);
/// directory layers are copied with `cp -a`. A code directory is bind-mounted as is.
struct SandboxLayout {
    /// The private staging directory (removed by `remove()`).
    let root: String
    let task: String
    let opt: String
    let runtime: String
    let tmp: String
    /// Mount points the host lacks, provided inside the sandbox's namespace only.
    let shadow: MountPointShadow

    /// Where the sandbox's own directories are mounted.
    static let targets = ["/var/task", "/opt", "/var/runtime", "/tmp"]

    /// Sandbox path → host path of the sandbox's own directories.
    var packageMounts: [SandboxMount] {
        [SandboxMount(source: task, target: "/var/task", readOnly: true),
         SandboxMount(source: opt, target: "/opt", readOnly: true),
         SandboxMount(source: runtime, target: "/var/runtime", readOnly: true),
         SandboxMount(source: tmp, target: "/tmp", readOnly: false)]
    }

    /// Every mount, in order: the shadowed mount points first, then the sandbox's directories.
    var mounts: [SandboxMount] { shadow.mounts + packageMounts }

    /// Maps a path inside the sandbox to the host path it will show.
    func hostPath(_ sandboxPath: String) -> String? {
        for m in packageMounts where sandboxPath == m.target || sandboxPath.hasPrefix(m.target + "/") {
            return m.source + sandboxPath.dropFirst(m.target.count)
        }
        return nil
    }

    /// Builds the layout for `configuration`, owned by `uid`/`gid` where it must be writable.
    static func prepare(_ configuration: EmulatorConfiguration, runtimeDirectory: URL) throws(EmulatorError) -> SandboxLayout {
        var template = Array((NSTemporaryDirectory() + "/kitsune-lambda-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .system("mkdtemp: \(errnoText(errno))") }
        let root = String(cString: made)
        chmod(root, 0o755)
        let fm = FileManager.default
        do {
            let opt = root + "/opt", tmp = root + "/tmp"
            for dir in [opt, tmp] { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            chown(tmp, configuration.sandboxUID, configuration.sandboxGID)
            chmod(tmp, 0o700)
            let task = try stage(configuration.code, into: root + "/task", name: "code")
            for layer in configuration.layers { _ = try stage(layer, into: opt, name: "layer", merge: true) }
            // Nothing is created on the host: missing mount points exist only in the sandbox.
            let shadow = try MountPointShadow.prepare(for: targets, under: root)
            return SandboxLayout(root: root, task: task, opt: opt, runtime: runtimeDirectory.path, tmp: tmp, shadow: shadow)
        } catch let error as EmulatorError {
            try? fm.removeItem(atPath: root)
            throw error
        } catch {
            try? fm.removeItem(atPath: root)
            throw .system("cannot stage the sandbox in \(root): \(error.localizedDescription)")
        }
    }

    /// Deletes the staging directory.
    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Makes `package` (zip or directory) available; returns the host path to mount.
    private static func stage(_ package: URL, into dest: String, name: String, merge: Bool = false) throws(EmulatorError) -> String {
        let path = package.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .badPackage(path: path, reason: "\(name) does not exist")
        }
        if isDir.boolValue {
            if !merge { return path }
            try run(["/bin/cp", "-a", path + "/.", dest + "/"], what: "copy \(name) directory", package: path)
            return dest
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .badPackage(path: path, reason: "\(name) is not readable")
        }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        try? handle.close()
        guard magic == Data([0x50, 0x4b, 0x03, 0x04]) || magic == Data([0x50, 0x4b, 0x05, 0x06]) else {
            throw .badPackage(path: path, reason: "\(name) is neither a directory nor a zip file (no PK signature)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") else {
            throw .badPackage(path: path, reason: "extracting zips needs /usr/bin/unzip (apt-get install unzip)")
        }
        if !merge {
            do { try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true) } catch {
                throw .system("cannot create \(dest): \(error.localizedDescription)")
            }
        }
        let listing = try run(["/usr/bin/unzip", "-Z1", path], what: "list \(name) zip", package: path)
        for entry in listing.split(separator: "\n") {
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
            if entry.hasPrefix("/") || parts.contains("..") {
                throw .badPackage(path: path, reason: "\(name) zip has an entry outside its root: '\(entry)' (traversal paths are refused)")
            }
        }
        try run(["/usr/bin/unzip", "-q", "-o", path, "-d", dest], what: "extract \(name) zip", package: path)
        return dest
    }

    /// Runs a tool and returns its standard output (stderr is kept for the error message).
    @discardableResult
    private static func run(_ argv: [String], what: String, package: String) throws(EmulatorError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-unzip-\(UUID().uuidString)")
        let outPipe = Pipe()
        guard FileManager.default.createFile(atPath: errFile.path, contents: nil) else {
            throw .system("cannot create a temporary file in \(FileManager.default.temporaryDirectory.path)")
        }
        defer { try? FileManager.default.removeItem(at: errFile) }
        process.standardError = FileHandle(forWritingAtPath: errFile.path)
        process.standardOutput = outPipe
        do { try process.run() } catch { throw .badPackage(path: package, reason: "cannot \(what): \(error.localizedDescription)") }
        let output = String(decoding: outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let errText = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        // unzip exit 1 = warnings only (e.g. a skipped "../" component); anything else is fatal.
        let ok = process.terminationStatus == 0 || (argv[0].hasSuffix("unzip") && process.terminationStatus == 1)
        if !ok {
            let detail = errText.split(whereSeparator: { $0 == "\n" || $0 == " " }).prefix(40).joined(separator: " ")
            throw .badPackage(path: package, reason: "cannot \(what) (exit \(process.terminationStatus)): \(detail.isEmpty ? "corrupt or unreadable" : detail)")
        }
        return output
    }
}
