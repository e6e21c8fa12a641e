// Reads what a stopped process asked for (its memory, its cwd and fds through /proc) and resolves
// files the way the kernel will. Everything read here is untrusted and bounded.
import CKitsuneSys

/// Bounds on what is read from a target.
enum Limits {
    static let pathMax = 4096
    /// Command lines and environments are read whole within the kernel's own limit for one string
    /// (MAX_ARG_STRLEN, 128 KiB), up to 1 MiB: a long `sh -c` script is legitimate, and padding must
    /// not push the argument or variable that matters out of sight.
    static let argStringMax = 128 * 1024
    static let argMax = 4096
    static let argBytesMax = 1024 * 1024
    static let envCountMax = 16384
    static let hashCacheEntries = 512
}

/// Reads strings and pointer arrays from another process, a page at a time: the strings of argv
/// and of the environment usually share a few pages, so a handful of reads cover an exec's whole
/// argument and environment block. Lives for one notification only (memory read is never reused).
struct TargetMemory {
    let pid: Int
    /// Recently read pages (base address, 4096 bytes), most recent last.
    var pages: [(base: UInt64, data: Bytes)] = []
    static let pageCache = 8

    init(pid: Int) { self.pid = pid }

    /// The page containing `address`, read on first use; nil when unmapped.
    mutating func page(_ address: UInt64) -> Int? {
        let base = address & ~4095
        if let i = pages.lastIndex(where: { $0.base == base }) { return i }
        var data = Bytes(repeating: 0, count: 4096)
        let n = data.withUnsafeMutableBufferPointer { ks_read_mem(Int32(pid), base, $0.baseAddress, 4096) }
        if n != 4096 { return nil }
        if pages.count >= Self.pageCache { pages.removeFirst() }
        pages.append((base, data))
        return pages.count - 1
    }

    /// A NUL-terminated string at `address`; nil when unreadable or longer than `max`.
    mutating func string(at address: UInt64, max: Int = Limits.pathMax) -> Bytes? {
        guard address != 0 else { return nil }
        var out: Bytes = []
        var addr = address
        while out.count <= max {
            guard let p = page(addr) else { return nil }
            let offset = Int(addr & 4095)
            let found: Int? = pages[p].data.withUnsafeBufferPointer { buf in
                var k = offset
                while k < 4096 { if buf[k] == 0 { return k }; k += 1 }
                return nil
            }
            let end = found ?? 4096
            out.append(contentsOf: pages[p].data[offset..<end])
            if found != nil { return out.count <= max ? out : nil }
            addr = (addr & ~4095) &+ 4096
        }
        return nil
    }

    /// A NULL-terminated array of string pointers (argv, envp), bounded.
    mutating func stringArray(at address: UInt64, maxCount: Int = Limits.argMax, maxString: Int = Limits.argStringMax,
                              maxTotal: Int = Limits.argBytesMax) -> [Bytes]? {
        guard address != 0 else { return [] }
        var out: [Bytes] = []
        var total = 0
        var slot = address
        while out.count < maxCount {
            var pointer: UInt64 = 0
            for b in 0..<8 {             // byte by byte: a misaligned array may straddle two pages
                let a = slot &+ UInt64(b)
                guard let p = page(a) else { return nil }
                pointer |= UInt64(pages[p].data[Int(a & 4095)]) << UInt64(8 * b)
            }
            if pointer == 0 { return out }
            guard let s = string(at: pointer, max: maxString) else { return nil }
            total += s.count
            out.append(s)
            if total > maxTotal { return out }
            slot &+= 8
        }
        return out
    }
}

/// ``FileOracle`` over the real file system, resolving paths in the context of one target process.
struct ProcOracle: FileOracle {
    /// The process whose view (`/proc/self`, `/dev/fd`, cwd) paths are resolved in.
    var pid = 0
    var hashes: [FileIdentity: Bytes] = [:]

    /// Rewrite paths that mean "this process" so they mean the target, not the supervisor.
    func targetView(_ path: Bytes) -> Bytes {
        let procSelf = Bytes(literal: "/proc/self/")
        let procThread = Bytes(literal: "/proc/thread-self/")
        let devFd = Bytes(literal: "/dev/fd/")
        let p = procPath(pid, "/")
        if path.hasPrefix(procSelf) { return p + Bytes(path[procSelf.count...]) }
        if path.hasPrefix(procThread) { return p + Bytes(path[procThread.count...]) }
        if path.hasPrefix(devFd) { return p + Bytes(literal: "fd/") + Bytes(path[devFd.count...]) }
        if path == Bytes(literal: "/dev/stdin") { return p + Bytes(literal: "fd/0") }
        return path
    }

    mutating func lookup(_ path: Bytes, cwd: Bytes) -> FileFacts {
        // Relative paths are appended unnormalized: the kernel resolves `..` and symlinks for us.
        let full = path.first == 47 ? targetView(path) : cwd + [47] + path
        let fd = withCPath(full) { ks_open($0, ks_o_path() | ks_o_cloexec(), 0) }
        if fd < 0 { return FileFacts(path: Path.normalize(full), kind: .missing) }
        defer { _ = ks_close(fd) }
        return facts(ofOpen: fd, fallback: full)
    }

    /// Facts about the file a target's descriptor refers to (`mmap`, `execveat(fd, "", AT_EMPTY_PATH)`).
    mutating func lookup(fd targetFD: Int, of pid: Int) -> FileFacts {
        let link = procPath(pid, "/fd/") + decimalBytes(targetFD)
        let fd = withCPath(link) { ks_open($0, ks_o_path() | ks_o_cloexec(), 0) }
        if fd < 0 { return FileFacts(path: link, kind: .missing) }
        defer { _ = ks_close(fd) }
        return facts(ofOpen: fd, fallback: link)
    }

    func facts(ofOpen fd: Int32, fallback: Bytes) -> FileFacts {
        var st = ks_stat_t()
        guard ks_fstat(fd, &st) == 0 else { return FileFacts(path: fallback, kind: .missing) }
        var path = canonicalPath(ofFD: fd) ?? fallback
        let memfd = Bytes(literal: "/memfd:")
        let deleted = Bytes(literal: " (deleted)")
        let wasDeleted = path.hasSuffix(deleted)
        if wasDeleted { path.removeLast(deleted.count) }
        let identity = FileIdentity(dev: st.dev, ino: st.ino, size: st.size,
                                    mtime: st.mtime_sec &* 1_000_000_000 &+ st.mtime_nsec,
                                    ctime: st.ctime_sec &* 1_000_000_000 &+ st.ctime_nsec)
        if path.hasPrefix(memfd) {
            return FileFacts(path: Bytes(path[1...]), kind: .memfd, size: Int(st.size), identity: identity)
        }
        let kind: FileKind
        if st.kind == 1 { kind = .regular } else if st.kind == 2 { kind = .directory }
        else if path.hasPrefix(Bytes(literal: "socket:")) { kind = .stream }
        // A pipe is a stream from elsewhere only while another process feeds it (see PipeWriters.swift).
        else if path.hasPrefix(Bytes(literal: "pipe:")) { kind = pipeHasForeignWriter(path) ? .stream : .other }
        // A named pipe or socket in the file system (`mkfifo /tmp/ff; curl … > /tmp/ff & sh /tmp/ff`);
        // devices (a terminal, /dev/null) are not programs from anywhere.
        else if st.mode & 0o170000 == 0o010000 || st.mode & 0o170000 == 0o140000 { kind = .stream }
        else { kind = .other }
        var facts = FileFacts(path: path, kind: kind, size: Int(st.size), identity: identity)
        facts.deleted = wasDeleted
        return facts
    }

    func entries(of directory: Bytes) -> [Bytes] { listDirectory(targetView(directory)) }

    mutating func sha256(of file: FileFacts) -> Bytes? {
        guard file.kind == .regular else { return nil }
        if let h = hashes[file.identity] { return h }
        let fd = withCPath(file.path) { ks_open($0, ks_o_rdonly() | ks_o_cloexec(), 0) }
        if fd < 0 { return nil }
        defer { _ = ks_close(fd) }
        var st = ks_stat_t()
        guard ks_fstat(fd, &st) == 0, st.ino == file.identity.ino, st.dev == file.identity.dev else { return nil }
        var hasher = SHA256()
        var buf = Bytes(repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { break }
            buf.withUnsafeBufferPointer { hasher.update(UnsafeBufferPointer(rebasing: $0[0..<Int(n)])) }
        }
        let digest = hasher.finalize()
        if hashes.count >= Limits.hashCacheEntries { hashes.removeAll() }
        hashes[file.identity] = digest
        return digest
    }
}
