// The supervisor's half of W^X per runtime (docs/policy.md, `exec_memory`). The seccomp filter
// decides by prot and flags, in the kernel: only mmap(PROT_WRITE|PROT_EXEC), mmap(MAP_ANONYMOUS,
// PROT_EXEC) and mprotect/pkey_mprotect(PROT_EXEC) reach here. What registers cannot tell — which
// runtime asks, and what memory an mprotect covers — is looked up here.
import CKitsuneSys

extension Supervisor {
    /// `mmap` writable+executable or anonymous executable: refused outside JIT runtimes.
    mutating func decideExecMapping(_ n: ks_notif_t, shape: ExecMemoryShape) -> Int32 {
        let pid = Int(n.pid)
        let exe = executableName(pid)
        let v = judge.judgeExecMemory(executable: exe, shape: shape)
        if v.isClean { return 0 }
        guard ks_notif_id_valid(listener, n.id) == 1 else { return 0 }
        // libffi probing for writable+executable memory: refused (enforce) or let be (audit), quietly.
        if shape == .writableExecutable && isTrampolineLibraryProbe(pid) { return v.block ? ks_errno_eperm() : 0 }
        let call = Bytes(literal: "mmap(") + protText(n.arg(2)) + Bytes(literal: ", ") + mapText(n.arg(3)) + [41]
        report(v, executable: exe, argv: [call], syscall: "mmap", pid: pid)
        return v.block ? ks_errno_eperm() : 0
    }

    /// `mprotect`/`pkey_mprotect` adding PROT_EXEC: clean for a JIT runtime, or when the range is a
    /// trusted file's unchanged, read-only mapping (the loader's text relocations); else refused.
    mutating func decideExecutableGain(_ n: ks_notif_t, syscall: StaticString) -> Int32 {
        let pid = Int(n.pid)
        let exe = executableName(pid)
        if judge.isJITRuntime(exe) { return 0 }
        let (start, length, prot) = (n.arg(0), n.arg(1), n.arg(2))
        if prot & MemoryFlags.protWrite == 0, let smaps = readFile(procPath(pid, "/smaps"), limit: 16 << 20).0,
           judge.isCleanExecutableGain(start: start, length: length, prot: prot, regions: MemoryRegion.parse(smaps)) {
            return 0
        }
        let v = judge.judgeExecMemory(executable: exe, shape: .executableGain)
        if v.isClean { return 0 }
        guard ks_notif_id_valid(listener, n.id) == 1 else { return 0 }
        let call = Bytes(literal: syscall) + Bytes(literal: "(0x") + hexNumber(start) + Bytes(literal: ", ") + decimalBytes(Int(truncatingIfNeeded: length))
            + Bytes(literal: ", ") + protText(prot) + [41]
        report(v, executable: exe, argv: [call], syscall: syscall, pid: pid)
        return v.block ? ks_errno_eperm() : 0
    }

    /// x86-64: the caller of the thread's `mmap` is a trampoline library's allocator (see
    /// ``ExecJudge/isTrampolineLibraryCall(returnAddress:preceding:regions:)``). The stack pointer
    /// comes from `/proc/TID/syscall`; glibc's and musl's `mmap` wrappers are leaves, so the
    /// return address is the word at it.
    func isTrampolineLibraryProbe(_ pid: Int) -> Bool {
        #if !arch(x86_64)
        return false
        #else
        guard let text = readFile(procPath(pid, "/syscall"), limit: 512).0 else { return false }
        let fields = text.trimmed().split(separator: 32)
        guard fields.count >= 9, fields[7].hasPrefix(Bytes(literal: "0x")),
              let sp = parseHexNumber(Bytes(fields[7].dropFirst(2))) else { return false }
        var word = Bytes(repeating: 0, count: 8)
        guard word.withUnsafeMutableBufferPointer({ ks_read_mem(Int32(pid), sp, $0.baseAddress, 8) }) == 8 else { return false }
        let ra = word.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard ra > 5 else { return false }
        var call = Bytes(repeating: 0, count: 5)
        guard call.withUnsafeMutableBufferPointer({ ks_read_mem(Int32(pid), ra - 5, $0.baseAddress, 5) }) == 5,
              let maps = readFile(procPath(pid, "/maps"), limit: 16 << 20).0 else { return false }
        return judge.isTrampolineLibraryCall(returnAddress: ra, preceding: call, regions: MemoryRegion.parse(maps))
        #endif
    }

    /// libffi's fallback when writable+executable memory is refused: a memfd named in
    /// `trampoline_memfds`, mapped shared and not writable, still all zeros where it is mapped (libffi
    /// maps the executable view first and writes its trampolines through a second, writable view).
    func isTrampolineMapping(_ n: ks_notif_t, link: Bytes) -> Bool {
        guard judge.policy.execMemory != .off, judge.isTrampolineMemfd(link),
              n.arg(3) & MemoryFlags.mapShared != 0, n.arg(2) & MemoryFlags.protWrite == 0 else { return false }
        let length = Int(truncatingIfNeeded: n.arg(1)), offset = Int(truncatingIfNeeded: n.arg(5))
        guard length > 0, length <= 1 << 20, offset >= 0 else { return false }
        let fd = withCPath(procPath(Int(n.pid), "/fd/") + decimalBytes(Int(Int32(truncatingIfNeeded: n.arg(4))))) {
            ks_open($0, ks_o_rdonly() | ks_o_cloexec(), 0)
        }
        if fd < 0 { return false }
        defer { _ = ks_close(fd) }
        var buf = Bytes(repeating: 0, count: length)
        let got = buf.withUnsafeMutableBufferPointer { ks_pread(fd, $0.baseAddress, $0.count, offset) }
        return got >= 0 && buf[0..<Int(got)].allSatisfy { $0 == 0 }
    }
}

/// Lower-case hexadecimal digits of `v` (no prefix).
func hexNumber(_ v: UInt64) -> Bytes {
    if v == 0 { return [48] }
    let digits = Bytes(literal: "0123456789abcdef")
    var out: Bytes = []
    var x = v
    while x > 0 { out.append(digits[Int(x & 15)]); x >>= 4 }
    return out.reversed()
}
