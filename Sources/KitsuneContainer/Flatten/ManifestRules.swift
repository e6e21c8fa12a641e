import Crypto
import Foundation
import KitsunePolicy

/// Which files of a container root file system the drift manifest lists (`Data/container-manifest.json`):
/// ELF objects, `#!` scripts and files with an executable bit everywhere; interpreter source files
/// outside the system directories; nothing beneath the excluded directories (Kitsune's own `/.kitsune`,
/// the kernel's `/proc`, `/sys`, `/dev`).
public struct ManifestRules: Codable, Sendable {
    public var version: Int
    public var scriptExtensions: [String]
    public var systemDirectories: [String]
    public var excluded: [String]
    /// Files a container engine writes into every container's root before the runtime starts it
    /// (`/etc/hosts`, `/run/.containerenv`): not part of the image's fingerprint.
    public var engineFiles: [String]

    /// The built-in rules.
    public static func builtIn() throws -> ManifestRules {
        guard let url = Bundle.module.url(forResource: "container-manifest", withExtension: "json", subdirectory: "Data"),
              let data = FileManager.default.contents(atPath: url.path) else {
            throw ContainerError("Data/container-manifest.json: missing from the KitsuneContainer resources")
        }
        do { return try JSONDecoder().decode(ManifestRules.self, from: data) } catch {
            throw ContainerError("Data/container-manifest.json: \(error)")
        }
    }

    func isExcluded(_ path: String) -> Bool {
        excluded.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    func isSystem(_ path: String) -> Bool {
        systemDirectories.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// The manifest kind of a regular file from its path, mode and first four bytes; nil when it is
    /// not executable content.
    public func kind(path: String, mode: UInt32, head: [UInt8]) -> ManifestFile.Kind? {
        guard !isExcluded(path) else { return nil }
        if head == [0x7F, 0x45, 0x4C, 0x46] { return .elf }
        if head.count >= 2 && head[0] == 0x23 && head[1] == 0x21 { return .script }
        if mode & 0o111 != 0 { return .other }
        if !isSystem(path), let dot = path.lastIndex(of: "."), !path[dot...].contains("/"),
           scriptExtensions.contains(String(path[path.index(after: dot)...]).lowercased()) { return .script }
        return nil
    }

    /// Manifest kind and SHA-256 (hex) of a regular file, nil when it is not executable content.
    public func classify<C: Collection>(path: String, mode: UInt32, contents: C) -> (kind: String, sha256: String)? where C.Element == UInt8 {
        guard let kind = kind(path: path, mode: mode, head: Array(contents.prefix(4))) else { return nil }
        let digest = SHA256.hash(data: Array(contents)).map { String(format: "%02x", $0) }.joined()
        return (kind.rawValue, digest)
    }
}

/// Drift manifests of container root file systems (root `/`): the manifest is the package.
public enum ContainerManifest {
    /// From a flattened image.
    public static func build(_ tree: LayerFlattener) -> Manifest {
        var files: [ManifestFile] = []
        for (path, node) in tree.nodes where node.kind == .file {
            guard let exe = node.executable else { continue }
            files.append(ManifestFile(path: path, sha256: exe.sha256, size: node.size, mode: String(format: "%04o", Int(node.mode)),
                                      kind: ManifestFile.Kind(rawValue: exe.kind) ?? .other))
        }
        return Manifest(root: "/", files: files)
    }

    /// From an unpacked root file system (an OCI bundle's `rootfs`). Symlinks are not followed and
    /// other file systems mounted beneath it are not entered.
    public static func build(directory: String, rules: ManifestRules) throws -> Manifest {
        var files: [ManifestFile] = []
        var rootStat = stat()
        guard lstat(directory, &rootStat) == 0, (rootStat.st_mode & S_IFMT) == S_IFDIR else {
            throw ContainerError("\(directory): not a directory")
        }
        var stack = [""]
        while let relative = stack.popLast() {
            let dirPath = relative.isEmpty ? directory : directory + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dirPath) else { continue }
            for name in names {
                let rel = relative.isEmpty ? name : relative + "/" + name
                if rules.isExcluded(rel) { continue }
                let full = directory + "/" + rel
                var st = stat()
                guard lstat(full, &st) == 0, st.st_dev == rootStat.st_dev else { continue }
                let type = st.st_mode & S_IFMT
                if type == S_IFDIR { stack.append(rel); continue }
                guard type == S_IFREG, let handle = FileHandle(forReadingAtPath: full) else { continue }
                let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
                try? handle.close()
                guard rules.kind(path: rel, mode: UInt32(st.st_mode & 0o7777), head: head) != nil,
                      let data = FileManager.default.contents(atPath: full),
                      let exe = rules.classify(path: rel, mode: UInt32(st.st_mode & 0o7777), contents: [UInt8](data)) else { continue }
                files.append(ManifestFile(path: rel, sha256: exe.sha256, size: data.count, mode: String(format: "%04o", Int(st.st_mode & 0o7777)),
                                          kind: ManifestFile.Kind(rawValue: exe.kind) ?? .other))
            }
        }
        return Manifest(root: "/", files: files)
    }
}
