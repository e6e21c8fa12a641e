// W^X per runtime: memory that is writable and executable, anonymous and executable, or made
// executable after the fact (mprotect adding PROT_EXEC) is code that never was a file — an in-memory
// loader's way to run a miner without exec. Runtimes with a JIT (Node, Java, .NET …, listed in the
// policy's `jit_runtimes`) need it; every other process is refused it (see docs/policy.md).

/// `mmap`/`mprotect` flag values (identical on x86_64 and aarch64).
public enum MemoryFlags {
    public static let protRead: UInt64 = 0x1
    public static let protWrite: UInt64 = 0x2
    public static let protExec: UInt64 = 0x4
    public static let mapShared: UInt64 = 0x1
    public static let mapPrivate: UInt64 = 0x2
    public static let mapAnonymous: UInt64 = 0x20
}

/// The kind of executable-memory request the seccomp filter passes on (it decides everything else).
public enum ExecMemoryShape {
    /// `mmap(PROT_WRITE|PROT_EXEC)`: writable and executable at once.
    case writableExecutable
    /// `mmap(MAP_ANONYMOUS, PROT_EXEC)`: executable memory backed by no file.
    case anonymousExecutable
    /// `mprotect`/`pkey_mprotect` adding PROT_EXEC to memory that is not a clean, trusted file mapping.
    case executableGain

    /// The shape of an `mmap` request, or nil when it is an ordinary (file, not writable) mapping.
    public static func ofMmap(prot: UInt64, flags: UInt64) -> ExecMemoryShape? {
        guard prot & MemoryFlags.protExec != 0 else { return nil }
        if prot & MemoryFlags.protWrite != 0 { return .writableExecutable }
        if flags & MemoryFlags.mapAnonymous != 0 { return .anonymousExecutable }
        return nil
    }
}

/// `PROT_READ|PROT_WRITE|PROT_EXEC` (or `PROT_NONE`), for events.
public func protText(_ prot: UInt64) -> Bytes {
    var parts: [Bytes] = []
    if prot & MemoryFlags.protRead != 0 { parts.append(Bytes(literal: "PROT_READ")) }
    if prot & MemoryFlags.protWrite != 0 { parts.append(Bytes(literal: "PROT_WRITE")) }
    if prot & MemoryFlags.protExec != 0 { parts.append(Bytes(literal: "PROT_EXEC")) }
    return parts.isEmpty ? Bytes(literal: "PROT_NONE") : Bytes(parts.joined(separator: [124]))
}

/// `MAP_SHARED|MAP_ANONYMOUS` (the flags that matter here), for events.
public func mapText(_ flags: UInt64) -> Bytes {
    var parts: [Bytes] = [flags & MemoryFlags.mapShared != 0 ? Bytes(literal: "MAP_SHARED") : Bytes(literal: "MAP_PRIVATE")]
    if flags & MemoryFlags.mapAnonymous != 0 { parts.append(Bytes(literal: "MAP_ANONYMOUS")) }
    return Bytes(parts.joined(separator: [124]))
}

/// One region of `/proc/PID/smaps` (or `maps`).
public struct MemoryRegion {
    public var start: UInt64
    public var end: UInt64
    /// `rwxp` as printed.
    public var permissions: Bytes
    public var inode: UInt64
    /// The file, `[heap]`, `[stack]`, `/memfd:NAME (deleted)`, or empty (anonymous).
    public var path: Bytes
    /// Private pages changed since they were mapped (copy-on-write), in kB; 0 when unknown.
    public var privateDirtyKB = 0

    /// Backed by a file that still exists under its path (not anonymous, not a memfd, not deleted).
    public var isFileBacked: Bool {
        inode != 0 && path.first == 47 && !path.hasSuffix(Bytes(literal: " (deleted)")) && !path.hasPrefix(Bytes(literal: "/memfd:"))
    }

    public var isWritable: Bool { permissions.count > 1 && permissions[1] == 119 }

    /// Parse `/proc/PID/smaps` (or `/proc/PID/maps`: no dirty counts).
    public static func parse(_ text: Bytes) -> [MemoryRegion] {
        var out: [MemoryRegion] = []
        for raw in text.split(separator: 10) {
            let line = Bytes(raw)
            if line.hasPrefix(Bytes(literal: "Private_Dirty:")), !out.isEmpty {
                let digits = line.filter { (48...57).contains($0) }
                out[out.count - 1].privateDirtyKB = digits.decimalValue() ?? 0
                continue
            }
            let fields = line.split(separator: 32, maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5, let dash = fields[0].firstIndex(of: 45),
                  let start = parseHexNumber(Bytes(fields[0][..<dash])), let end = parseHexNumber(Bytes(fields[0][(dash + 1)...])),
                  fields[1].count == 4, let inode = Bytes(fields[4]).decimalValue() else { continue }
            let path = fields.count > 5 ? Bytes(fields[5]).trimmed() : []
            out.append(MemoryRegion(start: start, end: end, permissions: Bytes(fields[1]), inode: UInt64(inode), path: path))
        }
        return out
    }
}

/// A hexadecimal number (`7f4a2c000000`); nil when malformed or longer than 16 digits.
public func parseHexNumber(_ text: Bytes) -> UInt64? {
    guard !text.isEmpty, text.count <= 16 else { return nil }
    var v: UInt64 = 0
    for c in text {
        let d: UInt64
        switch c {
        case 48...57: d = UInt64(c - 48)
        case 97...102: d = UInt64(c - 87)
        case 65...70: d = UInt64(c - 55)
        default: return nil
        }
        v = v << 4 | d
    }
    return v
}

extension ExecJudge {
    /// Whether the process running `executable` is a JIT runtime (`jit_runtimes`, base-name globs).
    public func isJITRuntime(_ executable: Bytes) -> Bool {
        matches(Path.baseName(executable), policy.jitRuntimes)
    }

    /// Judge a request for executable memory by the process running `executable`.
    public func judgeExecMemory(executable: Bytes, shape: ExecMemoryShape) -> Verdict {
        var out = Verdict()
        if !isJITRuntime(executable) { add(&out, .execMemory, executable, policy.execMemory) }
        out.block = policy.mode == .enforce && out.violations.contains { $0.action == .block }
        return out
    }

    /// `mprotect(addr, len, prot|PROT_EXEC)` over `regions`: clean when every page of the range is
    /// a trusted file's own mapping, unchanged since it was mapped (no dirty private pages) and not
    /// writable — what the loader does for a library's text. Anything else gains executable memory.
    public func isCleanExecutableGain(start: UInt64, length: UInt64, prot: UInt64, regions: [MemoryRegion]) -> Bool {
        guard prot & MemoryFlags.protWrite == 0, length > 0 else { return false }
        let (end, overflow) = start.addingReportingOverflow(length)
        guard !overflow else { return false }
        var covered = start
        for r in regions.sorted(by: { $0.start < $1.start }) where r.end > start && r.start < end {
            guard r.start <= covered, r.isFileBacked, !r.isWritable, r.privateDirtyKB == 0,
                  isMappingTrustedByPath(r.path) else { return false }
            covered = max(covered, r.end)
        }
        return covered >= end
    }

    /// x86-64: whether a writable+executable request comes straight from a trampoline library's own
    /// allocator — the return address of the (leaf) `mmap` wrapper, `returnAddress`, lies in the
    /// executable text of a trusted `libffi.so*` / `libffi-*.so*` (names from `trampoline_memfds`) and
    /// follows a direct call (`E8 rel32`, libffi's `dlmmap`; ctypes' foreign calls go through
    /// `ffi_call_unix64`'s indirect call instead). libffi falls back to its memfd trampolines by
    /// itself when refused, so the refusal is quiet.
    public func isTrampolineLibraryCall(returnAddress: UInt64, preceding: Bytes, regions: [MemoryRegion]) -> Bool {
        guard preceding.count == 5, preceding[0] == 0xE8,
              let r = regions.first(where: { $0.start <= returnAddress && returnAddress < $0.end }),
              r.permissions.count == 4, r.permissions[2] == 120, r.isFileBacked, isMappingTrustedByPath(r.path) else { return false }
        let base = Path.baseName(r.path)
        return policy.trampolineMemfds.contains { !$0.isEmpty && (base.hasPrefix($0 + [46]) || base.hasPrefix($0 + [45])) }
    }

    /// Whether an executable mapping of the memfd `name` (as `/memfd:NAME (deleted)`) is a
    /// trampoline page of a listed foreign-function library (`trampoline_memfds`: libffi's fallback
    /// when writable+executable memory is refused).
    public func isTrampolineMemfd(_ link: Bytes) -> Bool {
        let prefix = Bytes(literal: "/memfd:")
        guard link.hasPrefix(prefix) else { return false }
        var name = Bytes(link[prefix.count...])
        let deleted = Bytes(literal: " (deleted)")
        if name.hasSuffix(deleted) { name.removeLast(deleted.count) }
        return policy.trampolineMemfds.contains(name)
    }
}
