// Thin Swift helpers over CKitsuneSys for byte-string paths and file I/O.
import CKitsuneSys

/// Call `body` with `path` as a NUL-terminated C string.
func withCPath<T>(_ path: Bytes, _ body: (UnsafePointer<CChar>) -> T) -> T {
    var z = path
    z.append(0)
    return z.withUnsafeBufferPointer { buf in
        buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { body($0) }
    }
}

/// The bytes of a NUL-terminated C string.
func bytes(ofCString p: UnsafePointer<CChar>) -> Bytes {
    var n = 0
    while p[n] != 0 { n += 1 }
    return p.withMemoryRebound(to: UInt8.self, capacity: n) { Bytes(UnsafeBufferPointer(start: $0, count: n)) }
}

/// Write all of `data` to `fd`, ignoring errors (events and messages must never stop the supervisor).
func writeAll(_ fd: Int32, _ data: Bytes) {
    data.withUnsafeBufferPointer { _ = ks_write_all(fd, $0.baseAddress, $0.count) }
}

/// One line on standard error: `kitsune-enforcer: MESSAGE`.
func complain(_ message: Bytes) {
    writeAll(2, Bytes(literal: "kitsune-enforcer: ") + message + [10])
}

/// A read buffer of `count` bytes that is not zero-filled: its pages become resident only as reads
/// fill them (a 64 kB relay buffer that only ever sees small messages costs one or two pages, not 16).
/// Only the bytes a read returned may be looked at; what lies beyond them is whatever the heap held.
func readBuffer(_ count: Int) -> Bytes {
    Bytes(unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// Read a whole file (bounded); nil with an errno on failure.
func readFile(_ path: Bytes, limit: Int = 16 << 20) -> (Bytes?, Int32) {
    let fd = withCPath(path) { ks_open($0, ks_o_rdonly() | ks_o_cloexec(), 0) }
    if fd < 0 { return (nil, -fd) }
    defer { _ = ks_close(fd) }
    var out: Bytes = []
    var chunk = Bytes(repeating: 0, count: 65536)
    while out.count <= limit {
        let n = chunk.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return (nil, Int32(-n)) }
        if n == 0 { return (out, 0) }
        out.append(contentsOf: chunk[0..<Int(n)])
    }
    return (nil, 27) // EFBIG
}

/// The target of a symbolic link (e.g. `/proc/PID/fd/N`).
func readLink(_ path: Bytes) -> Bytes? {
    var buf = Bytes(repeating: 0, count: 4096)
    let n = withCPath(path) { p in buf.withUnsafeMutableBufferPointer { b in
        b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { ks_readlink(p, $0, b.count) }
    } }
    guard n > 0 else { return nil }
    return Bytes(buf[0..<Int(n)])
}

/// Text of an errno value.
func errorText(_ err: Int32) -> Bytes {
    guard let p = ks_strerror(err) else { return decimalBytes(Int(err)) }
    return bytes(ofCString: p)
}

/// `/proc/PID/` + suffix.
func procPath(_ pid: Int, _ suffix: StaticString) -> Bytes {
    Bytes(literal: "/proc/") + decimalBytes(pid) + Bytes(literal: suffix)
}

/// A file's canonical path through an open descriptor of ours (`/proc/self/fd/N`).
func canonicalPath(ofFD fd: Int32) -> Bytes? {
    readLink(Bytes(literal: "/proc/self/fd/") + decimalBytes(Int(fd)))
}

/// Resolve a directory to its canonical path; nil when it does not exist or is not a directory.
func canonicalDirectory(_ path: Bytes) -> Bytes? {
    let fd = withCPath(path) { ks_open($0, ks_o_path() | ks_o_cloexec() | ks_o_directory(), 0) }
    if fd < 0 { return nil }
    defer { _ = ks_close(fd) }
    return canonicalPath(ofFD: fd)
}

/// Resolve any existing path to its canonical form.
func canonicalExisting(_ path: Bytes) -> Bytes? {
    let fd = withCPath(path) { ks_open($0, ks_o_path() | ks_o_cloexec(), 0) }
    if fd < 0 { return nil }
    defer { _ = ks_close(fd) }
    return canonicalPath(ofFD: fd)
}

/// An environment variable of this process.
func environment(_ name: StaticString) -> Bytes? { environment(bytes: Bytes(literal: name)) }

/// An environment variable of this process, by a run-time name (entries are compared in place:
/// only the value found is copied).
func environment(bytes name: Bytes) -> Bytes? {
    guard let envp = ks_envp() else { return nil }
    var i = 0
    outer: while let entry = envp[i] {
        i += 1
        for (k, b) in name.enumerated() where UInt8(bitPattern: entry[k]) != b { continue outer }
        guard entry[name.count] == 61 else { continue }
        return bytes(ofCString: entry + name.count + 1)
    }
    return nil
}

/// This process's arguments as byte strings.
func processArguments() -> [Bytes] {
    var out: [Bytes] = []
    guard let argv = ks_argv() else { return out }
    for i in 0..<Int(ks_argc()) {
        if let a = argv[i] { out.append(bytes(ofCString: a)) }
    }
    return out
}

/// Reap child `pid`, waiting until `deadline` (monotonic ns) at most; polls every `stepMs`. A child
/// whose pipes have closed is not yet a zombie, so a single WNOHANG wait right after EOF can miss it.
/// True once reaped (or already gone); false if it was still running at the deadline.
func reapChild(_ pid: Int32, by deadline: Int64, stepMs: Int32 = 1, status: inout Int32) -> Bool {
    while true {
        let r = ks_waitpid(pid, &status, 1)
        if r == pid || r < 0 { return true }
        if ks_monotonic_ns() >= deadline { return false }
        _ = ks_poll(nil, 0, nil, stepMs)
    }
}

/// The entry names of a directory (without `.` and `..`); names beyond `capacity` bytes are left out.
func listDirectory(_ dir: Bytes, capacity: Int = 65536) -> [Bytes] {
    var buf = Bytes(repeating: 0, count: capacity)
    let n = withCPath(dir) { p in
        buf.withUnsafeMutableBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { ks_list_dir(p, $0, b.count) }
        }
    }
    guard n > 0 else { return [] }
    return buf[0..<n].split(separator: 0).map { Bytes($0) }
}
