import Crypto
import Foundation
import KitsuneFindings

/// What `kitsune-oci-runtime` does to an OCI bundle before runc creates the container: the enforcer
/// goes in front of `process.args`, and a read-only bind mount at `/.kitsune` brings the static
/// binaries and a drift manifest of the bundle's root file system (cached by a fingerprint of it).
public struct BundleProtector {
    /// Where manifests are cached, one directory per root file system fingerprint.
    public var cacheDirectory: String
    public var enforcer: String
    public var ship: String?
    /// Policy YAML to use (validated by the enforcer at start), and a mode override.
    public var policy: [UInt8]?
    public var mode: String?
    public let rules: ManifestRules

    public init(cacheDirectory: String, enforcer: String, ship: String?, policy: [UInt8]?, mode: String?, rules: ManifestRules) {
        self.cacheDirectory = cacheDirectory; self.enforcer = enforcer; self.ship = ship
        self.policy = policy; self.mode = mode; self.rules = rules
    }

    /// Rewrite `bundle/config.json` in place (atomically). Returns false when there was nothing to do
    /// (no process, or the process is already the enforcer of a protected image).
    @discardableResult
    public func protect(bundle: String, containerID: String) throws -> Bool {
        let configPath = bundle + "/config.json"
        guard let data = FileManager.default.contents(atPath: configPath) else { throw ContainerError("\(configPath): cannot be read") }
        var config = try ImageJSON.object([UInt8](data), name: configPath)
        guard var process = config["process"] as? [String: Any], let args = process["args"] as? [String], !args.isEmpty else { return false }
        if args[0] == KitsunePaths.enforcer { return false }
        guard let root = config["root"] as? [String: Any], let rootPath = root["path"] as? String else {
            throw ContainerError("\(configPath): no root.path")
        }
        let rootfs = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        let kitsuneDir = try prepare(rootfs: rootfs)
        var wrapper = [KitsunePaths.enforcer, "--manifest", KitsunePaths.manifest]
        if policy != nil { wrapper += ["--policy", KitsunePaths.policy] }
        if let mode { wrapper += ["--mode", mode] }
        process["args"] = wrapper + ["--"] + args
        var env = process["env"] as? [String] ?? []
        env = env.filter { !$0.hasPrefix("KITSUNE_CONTAINER_ID=") } + ["KITSUNE_CONTAINER_ID=\(containerID)"]
        process["env"] = env
        config["process"] = process
        var mounts = config["mounts"] as? [[String: Any]] ?? []
        mounts.append(["destination": KitsunePaths.directory, "type": "bind", "source": kitsuneDir,
                       "options": ["rbind", "ro", "nosuid", "nodev"]])
        config["mounts"] = mounts
        do { try AtomicFile.write(Data(try ImageJSON.bytes(config)), to: configPath) } catch { throw ContainerError("\(error)") }
        return true
    }

    /// The cache directory for `rootfs` (created on first use): enforcer, ship helper, policy, manifest.
    func prepare(rootfs: String) throws -> String {
        let fm = FileManager.default
        let key = try fingerprint(rootfs: rootfs)
        var settings = Array((policy ?? []) + Array((mode ?? "").utf8))
        if let data = fm.contents(atPath: enforcer) { settings += [UInt8](data) }
        let dir = cacheDirectory + "/" + String(Digest.sha256(Array(key.utf8) + settings).dropFirst(7).prefix(32))
        if fm.fileExists(atPath: dir + "/manifest.json") { return dir }
        try fm.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let staging = dir + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        do {
            let manifest = try ContainerManifest.build(directory: rootfs, rules: rules)
            try Data(manifest.jsonData()).write(to: URL(fileURLWithPath: staging + "/manifest.json"))
            try fm.copyItem(atPath: enforcer, toPath: staging + "/kitsune-enforcer")
            if let ship, fm.fileExists(atPath: ship) { try fm.copyItem(atPath: ship, toPath: staging + "/kitsune-ship") }
            if let policy { try Data(policy).write(to: URL(fileURLWithPath: staging + "/policy.yaml")) }
            for name in try fm.contentsOfDirectory(atPath: staging) {
                try fm.setAttributes([.posixPermissions: name.hasPrefix("kitsune-") ? 0o755 : 0o644], ofItemAtPath: staging + "/" + name)
            }
            if rename(staging, dir) != 0 && !fm.fileExists(atPath: dir + "/manifest.json") {
                throw ContainerError("\(dir): cannot be created: \(String(cString: strerror(errno)))")
            }
            try? fm.removeItem(atPath: staging)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error is ContainerError ? error : ContainerError("\(rootfs): \(error.localizedDescription)")
        }
        return dir
    }

    /// A digest of the root file system's shape: path, mode, size and mtime of every file, the names of
    /// directories and the targets of symlinks (engines create both) (no contents read). Containers of one image share it; a cached manifest names the contents the
    /// image had, so a file changed behind an unchanged size and mtime fails the enforcer's check.
    func fingerprint(rootfs: String) throws -> String {
        var root = stat()
        guard lstat(rootfs, &root) == 0, (root.st_mode & S_IFMT) == S_IFDIR else { throw ContainerError("\(rootfs): not a directory") }
        var hasher = SHA256()
        var stack = [""]
        while let rel = stack.popLast() {
            let dir = rel.isEmpty ? rootfs : rootfs + "/" + rel
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for name in names.sorted() {
                let path = rel.isEmpty ? name : rel + "/" + name
                if rules.isExcluded(path) || rules.engineFiles.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { continue }
                var st = stat()
                guard lstat(rootfs + "/" + path, &st) == 0, st.st_dev == root.st_dev else { continue }
                // Directories by name only: engines create mount points in them (their mtimes change).
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    hasher.update(data: Array("\(path)/\n".utf8))
                    stack.append(path)
                } else if (st.st_mode & S_IFMT) == S_IFLNK {
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/" + path)) ?? ""
                    hasher.update(data: Array("\(path) -> \(target)\n".utf8))
                } else {
                    hasher.update(data: Array("\(path)\0\(st.st_mode)\0\(st.st_size)\0\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\n".utf8))
                }
            }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
