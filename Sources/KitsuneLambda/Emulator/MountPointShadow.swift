import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gives the sandbox mount points the host does not have, without creating anything on the host.
///
/// A fresh machine has no `/var/task` or `/var/runtime`. Rather than `mkdir` them on the host (where
/// they would stay behind), the nearest existing ancestor (`/var`) is shadowed inside the sandbox's
/// own mount namespace by a directory in the private staging root that holds one mount point per
/// entry of the host's `/var` — each bound back from the host, so `/var/lib`, `/var/tmp` … are the
/// host's — plus the missing mount points. Only the sandbox ever sees the shadow; the host's `/var`
/// is untouched, and the staging root is removed with the sandbox.
struct MountPointShadow {
    /// Mounts to make, in order, before the sandbox's own: host entries into the shadow, then the
    /// shadow over its ancestor.
    private(set) var mounts: [SandboxMount] = []

    /// Prepares shadows under `stagingRoot` for every target in `targets` that the host lacks.
    /// - Throws: `.sandboxUnavailable` when a missing target's only existing ancestor is `/`.
    static func prepare(for targets: [String], under stagingRoot: String,
                        fileManager fm: FileManager = .default) throws(EmulatorError) -> MountPointShadow {
        var shadow = MountPointShadow()
        var shadowed: [String: String] = [:]   // host ancestor → its shadow directory
        for target in targets where !isDirectory(target) {
            guard let ancestor = nearestExistingAncestor(of: target), ancestor != "/" else {
                throw .sandboxUnavailable("this host has no \(target) and no parent directory of it but /: "
                                          + "create \(target) (an empty directory) once, or run on a host that has it")
            }
            let copy: String
            if let existing = shadowed[ancestor] {
                copy = existing
            } else {
                copy = stagingRoot + "/shadow" + ancestor
                shadow.mounts += try populate(copy, mirroring: ancestor, fileManager: fm)
                shadowed[ancestor] = copy
            }
            do {
                try fm.createDirectory(atPath: copy + target.dropFirst(ancestor.count), withIntermediateDirectories: true)
            } catch {
                throw .system("cannot create the mount point for \(target) in \(copy): \(error.localizedDescription)")
            }
        }
        for (ancestor, copy) in shadowed.sorted(by: { $0.key < $1.key }) {
            shadow.mounts.append(SandboxMount(source: copy, target: ancestor, readOnly: false, passThrough: true))
        }
        return shadow
    }

    /// Creates `copy` with one mount point per entry of `directory` (symbolic links copied as links)
    /// and returns the binds that put the host's entries on them.
    private static func populate(_ copy: String, mirroring directory: String,
                                 fileManager fm: FileManager) throws(EmulatorError) -> [SandboxMount] {
        var binds: [SandboxMount] = []
        do {
            try fm.createDirectory(atPath: copy, withIntermediateDirectories: true)
            chmod(copy, 0o755)
            for name in try fm.contentsOfDirectory(atPath: directory).sorted() {
                let host = directory + "/" + name, point = copy + "/" + name
                var info = stat()
                guard lstat(host, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFLNK:
                    try fm.createSymbolicLink(atPath: point, withDestinationPath: try fm.destinationOfSymbolicLink(atPath: host))
                    continue
                case S_IFDIR:
                    try fm.createDirectory(atPath: point, withIntermediateDirectories: false)
                default:
                    guard fm.createFile(atPath: point, contents: nil) else {
                        throw EmulatorError.system("cannot create mount point \(point)")
                    }
                }
                binds.append(SandboxMount(source: host, target: point, readOnly: false, passThrough: true))
            }
        } catch let error as EmulatorError {
            throw error
        } catch {
            throw .system("cannot shadow \(directory) for the sandbox in \(copy): \(error.localizedDescription)")
        }
        return binds
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    private static func nearestExistingAncestor(of path: String) -> String? {
        var parent = (path as NSString).deletingLastPathComponent
        while !parent.isEmpty {
            if isDirectory(parent) { return parent }
            if parent == "/" { return nil }
            parent = (parent as NSString).deletingLastPathComponent
        }
        return nil
    }
}
