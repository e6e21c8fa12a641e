// Container semantics of drift (a manifest whose root is `/`: the manifest is the package). The root
// file system of a container is usually writable, so Landlock is set up as W^X over the tree:
//   - EXECUTE only beneath the trusted roots and on the manifest's own files outside them;
//   - none of the write rights (write, truncate, create, remove, rename/link into) beneath any of
//     those, nor in Kitsune's own directory; every other place stays writable.
// So no file the protected tree wrote, replaced or made executable can run (kernel-enforced), and the
// supervisor's SHA-256 check of an image file cannot be raced by the tree rewriting that file.
import CKitsuneSys

/// The Landlock rules of container mode, computed in the enforcer before the fork.
struct ContainerRules {
    /// Manifest files outside the trusted roots (`/entrypoint.sh`, `/app/server`): EXECUTE on each.
    var executableFiles: [Bytes] = []
    /// Where writing stays allowed, with the rights granted there (directory or file rights).
    var writable: [(Bytes, UInt64)] = []
    /// Write rights the rule set handles (denied wherever `writable` does not grant them).
    var handledWrite: UInt64 = 0

    // Landlock access rights (uapi linux/landlock.h, stable ABI).
    static let writeFile: UInt64 = 1 << 1, removeDir: UInt64 = 1 << 4, removeFile: UInt64 = 1 << 5
    static let makeDir: UInt64 = 1 << 7, makeReg: UInt64 = 1 << 8, makeSym: UInt64 = 1 << 12
    static let refer: UInt64 = 1 << 13, truncate: UInt64 = 1 << 14

    /// Whether `manifest` asks for container semantics.
    static func applies(_ manifest: ManifestIndex?) -> Bool { manifest?.root == [47] }

    /// The rules for `policy` (canonical trusted roots) and `manifest` (root `/`); nil when the
    /// kernel's Landlock is older than ABI 3 (no truncate right: write protection would be partial).
    static func compute(policy: Policy, manifest: ManifestIndex, abi: Int, ownDirectory: Bytes?) -> ContainerRules? {
        guard abi >= 3 else { return nil }
        var rules = ContainerRules()
        rules.handledWrite = writeFile | removeDir | removeFile | makeDir | makeReg | makeSym | refer | truncate
        var protected = policy.trustedRoots
        for (path, _) in manifest.records where !policy.isBeneathAny(path, protected) {
            guard let real = canonicalExisting(path) else { continue }
            if !policy.isBeneathAny(real, protected) { rules.executableFiles.append(real) }
        }
        protected += rules.executableFiles
        if let own = ownDirectory, own != [47] { protected.append(own) }
        // Every proper ancestor of a protected path: its other children are granted the write rights.
        var ancestors: [Bytes] = []
        for p in protected {
            var cut = p
            while let slash = cut.lastIndex(of: 47) {
                cut = slash == 0 ? [47] : Bytes(cut[..<slash])
                if !ancestors.contains(cut) { ancestors.append(cut) }
                if cut == [47] { break }
            }
        }
        let dirRights = rules.handledWrite
        let fileRights = writeFile | truncate
        for a in ancestors where !policy.isBeneathAny(a, protected) {
            for name in listDirectory(a) {
                let child = a == [47] ? [47] + name : a + [47] + name
                if child == Bytes(literal: "/proc") || ancestors.contains(child) || protected.contains(child) { continue }
                var st = ks_stat_t()
                let fd = withCPath(child) { ks_open($0, ks_o_path() | ks_o_cloexec() | ks_o_nofollow(), 0) }
                if fd < 0 { continue }
                let ok = ks_fstat(fd, &st) == 0
                _ = ks_close(fd)
                guard ok else { continue }
                if st.kind == 2 { rules.writable.append((child, dirRights)) }
                else if st.kind == 1 { rules.writable.append((child, fileRights)) }
                // Symlinks and special files: a symlink resolves to a place with rules of its own.
            }
        }
        return rules
    }
}

extension Policy {
    /// Whether `path` is one of `roots` or beneath one.
    func isBeneathAny(_ path: Bytes, _ roots: [Bytes]) -> Bool {
        for r in roots where Path.isBeneath(path, r) { return true }
        return false
    }
}
