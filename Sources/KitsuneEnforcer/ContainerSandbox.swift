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
    /// Manifest files outside the trusted roots (`/entrypoint.sh`, `/app/server`), or directories
    /// holding nothing else: EXECUTE on each.
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
        rules.executableFiles = executables(outside: policy.trustedRoots, manifest: manifest)
        protected += rules.executableFiles
        if let own = ownDirectory, own != [47] { protected.append(own) }
        let protectedSet = Set(protected)
        // Every proper ancestor of a protected path: its other children are granted the write rights.
        var ancestors: [Bytes] = []
        var ancestorSet = Set<Bytes>()
        for p in protected {
            var cut = p
            while let slash = cut.lastIndex(of: 47) {
                cut = slash == 0 ? [47] : Bytes(cut[..<slash])
                if !ancestorSet.insert(cut).inserted { break }      // its own ancestors are in already
                ancestors.append(cut)
                if cut == [47] { break }
            }
        }
        let dirRights = rules.handledWrite
        let fileRights = writeFile | truncate
        for a in ancestors where !policy.isBeneathAny(a, policy.trustedRoots) {
            for name in listDirectory(a, capacity: 1 << 20) {
                let child = a == [47] ? [47] + name : a + [47] + name
                if child == Bytes(literal: "/proc") || ancestorSet.contains(child) || protectedSet.contains(child) { continue }
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

extension ContainerRules {
    /// The manifest's files outside `roots`, as Landlock targets: a directory whose every entry is a
    /// listed file counts as one target (one rule, and the whole directory is write-protected: nothing
    /// can be added to it); any other listed file is a target of its own when it is a regular file
    /// (not a symlink, which would carry the right to its target).
    static func executables(outside roots: [Bytes], manifest: ManifestIndex) -> [Bytes] {
        var byDirectory: [Bytes: [Bytes]] = [:]
        for (path, _) in manifest.records where !roots.contains(where: { Path.isBeneath(path, $0) }) {
            guard let slash = path.lastIndex(of: 47) else { continue }
            byDirectory[slash == 0 ? [47] : Bytes(path[..<slash]), default: []].append(Bytes(path[(slash + 1)...]))
        }
        var out: [Bytes] = []
        for (dir, names) in byDirectory {
            if dir != [47] && names.count >= 2 {
                let present = listDirectory(dir, capacity: 1 << 22)
                if present.count == names.count && Set(present) == Set(names) { out.append(dir); continue }
            }
            for name in names {
                let path = dir == [47] ? [47] + name : dir + [47] + name
                let fd = withCPath(path) { ks_open($0, ks_o_path() | ks_o_cloexec() | ks_o_nofollow(), 0) }
                if fd < 0 { continue }
                var st = ks_stat_t()
                if ks_fstat(fd, &st) == 0 && st.kind == 1 { out.append(path) }
                _ = ks_close(fd)
            }
        }
        return out
    }
}

extension Policy {
    /// Whether `path` is one of `roots` or beneath one.
    func isBeneathAny(_ path: Bytes, _ roots: [Bytes]) -> Bool {
        for r in roots where Path.isBeneath(path, r) { return true }
        return false
    }
}
