import KitsunePolicyCore
import XCTest

/// The W^X rules the supervisor applies to what the seccomp filter passes on (ExecMemoryRules.swift).
final class ExecMemoryRulesTests: XCTestCase {
    func b(_ s: String) -> Bytes { Bytes(s.utf8) }

    func judge(_ mode: Mode = .enforce) -> ExecJudge {
        var p = Policy()
        p.mode = mode
        p.systemRoots = [b("/usr")]
        p.packageRoots = [b("/var/task")]
        p.jitRuntimes = [b("node"), b("java"), b("pypy*")]
        p.trampolineMemfds = [b("libffi")]
        return ExecJudge(policy: p, manifest: nil)
    }

    func testMmapShapes() {
        let (r, w, x) = (MemoryFlags.protRead, MemoryFlags.protWrite, MemoryFlags.protExec)
        XCTAssertEqual(ExecMemoryShape.ofMmap(prot: r | w | x, flags: MemoryFlags.mapPrivate | MemoryFlags.mapAnonymous), .writableExecutable)
        XCTAssertEqual(ExecMemoryShape.ofMmap(prot: w | x, flags: MemoryFlags.mapPrivate), .writableExecutable, "a file mapped W+X too")
        XCTAssertEqual(ExecMemoryShape.ofMmap(prot: r | x, flags: MemoryFlags.mapPrivate | MemoryFlags.mapAnonymous), .anonymousExecutable)
        XCTAssertNil(ExecMemoryShape.ofMmap(prot: r | x, flags: MemoryFlags.mapPrivate), "a file mapped R+X is native_code's business")
        XCTAssertNil(ExecMemoryShape.ofMmap(prot: r | w, flags: MemoryFlags.mapAnonymous))
        XCTAssertEqual(String(decoding: protText(r | w | x), as: UTF8.self), "PROT_READ|PROT_WRITE|PROT_EXEC")
        XCTAssertEqual(String(decoding: protText(0), as: UTF8.self), "PROT_NONE")
        XCTAssertEqual(String(decoding: mapText(MemoryFlags.mapShared | MemoryFlags.mapAnonymous), as: UTF8.self), "MAP_SHARED|MAP_ANONYMOUS")
    }

    func testOnlyJITRuntimesGetExecutableMemory() {
        let j = judge()
        let python = j.judgeExecMemory(executable: b("/usr/bin/python3.11"), shape: .writableExecutable)
        XCTAssertEqual(python.violations.map { String(decoding: $0.reason.name, as: UTF8.self) }, ["exec_memory"])
        XCTAssertTrue(python.block)
        XCTAssertTrue(j.judgeExecMemory(executable: b("/var/lang/bin/node"), shape: .writableExecutable).isClean)
        XCTAssertTrue(j.judgeExecMemory(executable: b("/opt/pypy/bin/pypy3.10"), shape: .anonymousExecutable).isClean)
        XCTAssertFalse(j.isJITRuntime(b("/tmp/node/evil")), "base name of the executable, not a directory")
        let audit = judge(.audit).judgeExecMemory(executable: b("/usr/bin/perl"), shape: .executableGain)
        XCTAssertFalse(audit.isClean)
        XCTAssertFalse(audit.block, "audit reports")
    }

    let smaps = """
    55d0c8a00000-55d0c8a01000 r--p 00000000 08:01 1234 /usr/bin/python3.11
    Private_Dirty:         0 kB
    7f0000000000-7f0000002000 r--p 00001000 08:01 5678 /usr/lib/x86_64-linux-gnu/libtextrel.so
    Private_Dirty:         0 kB
    7f0000002000-7f0000003000 r--p 00003000 08:01 5678 /usr/lib/x86_64-linux-gnu/libtextrel.so
    Private_Dirty:         4 kB
    7f0000010000-7f0000011000 rw-p 00000000 00:00 0
    Private_Dirty:         4 kB
    7f0000020000-7f0000021000 r--p 00000000 00:01 99 /memfd:x (deleted)
    7f0000030000-7f0000031000 r--p 00000000 08:01 77 /tmp/dropped.so
    7f0000040000-7f0000041000 rw-p 00000000 08:01 5678 /usr/lib/x86_64-linux-gnu/libtextrel.so
    7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
    garbage line
    """

    func testExecutableGainIsCleanOnlyOverUnchangedReadOnlyTrustedFiles() {
        let j = judge()
        let regions = MemoryRegion.parse(b(smaps))
        XCTAssertEqual(regions.count, 8)
        XCTAssertEqual(regions[1].path, b("/usr/lib/x86_64-linux-gnu/libtextrel.so"))
        XCTAssertEqual(regions[2].privateDirtyKB, 4)
        XCTAssertEqual(regions[3].path, [])
        let rx = MemoryFlags.protRead | MemoryFlags.protExec
        func clean(_ start: UInt64, _ length: UInt64, _ prot: UInt64 = rx) -> Bool {
            j.isCleanExecutableGain(start: start, length: length, prot: prot, regions: regions)
        }
        XCTAssertTrue(clean(0x7f00_0000_0000, 0x2000), "the loader's text relocation: unchanged read-only file pages")
        XCTAssertTrue(clean(0x7f00_0000_1000, 0x100), "inside one region, unaligned length")
        XCTAssertFalse(clean(0x7f00_0000_0000, 0x3000), "a written (dirty) copy-on-write page")
        XCTAssertFalse(clean(0x7f00_0000_0000, 0x2000, rx | MemoryFlags.protWrite), "W+X never")
        XCTAssertFalse(clean(0x7f00_0001_0000, 0x1000), "anonymous")
        XCTAssertFalse(clean(0x7f00_0002_0000, 0x1000), "memfd")
        XCTAssertFalse(clean(0x7f00_0003_0000, 0x1000), "a file outside the trusted roots")
        XCTAssertFalse(clean(0x7f00_0004_0000, 0x1000), "currently writable")
        XCTAssertFalse(clean(0x7ffc_0000_0000, 0x1000), "the stack")
        XCTAssertFalse(clean(0x7f00_0000_0000, 0x20000), "a range with unmapped holes")
        XCTAssertFalse(clean(0x5000_0000_0000, 0x1000), "nothing mapped there")
        XCTAssertFalse(clean(UInt64.max - 0xfff, 0x2000), "wrapping range")
        XCTAssertFalse(clean(0x7f00_0000_0000, 0), "empty")
    }

    func testTrampolineMemfdNames() {
        let j = judge()
        XCTAssertTrue(j.isTrampolineMemfd(b("/memfd:libffi (deleted)")))
        XCTAssertFalse(j.isTrampolineMemfd(b("/memfd:libffi2 (deleted)")))
        XCTAssertFalse(j.isTrampolineMemfd(b("/tmp/libffi")))
        XCTAssertFalse(j.isTrampolineMemfd(b("/memfd:payload (deleted)")))
    }

    func testPolicyKeys() throws {
        var p = Policy()
        try PolicyLoader.apply(b("exec_memory: report\njit_runtimes: [node, \"java*\"]\ntrampoline_memfds: []\n"), to: &p)
        XCTAssertEqual(p.execMemory, .report)
        XCTAssertEqual(p.jitRuntimes, [b("node"), b("java*")])
        XCTAssertEqual(p.trampolineMemfds, [])
        XCTAssertThrowsError(try PolicyLoader.apply(b("exec_memory: maybe\n"), to: &p))
    }
}

extension ExecMemoryRulesTests {
    func testTrampolineLibraryCallsAreRecognisedByTheirCallSite() {
        let j = judge()
        let regions = MemoryRegion.parse(b("""
        7f1000000000-7f1000002000 r--p 00000000 08:01 10 /usr/lib/x86_64-linux-gnu/libffi.so.8.1.2
        7f1000002000-7f1000008000 r-xp 00002000 08:01 10 /usr/lib/x86_64-linux-gnu/libffi.so.8.1.2
        7f2000000000-7f2000008000 r-xp 00000000 08:01 11 /usr/lib/x86_64-linux-gnu/libc.so.6
        7f3000000000-7f3000008000 r-xp 00000000 08:01 12 /usr/local/lib/python3.11/dist-packages/cffi.libs/libffi-abc123.so.8.1.0
        7f4000000000-7f4000008000 r-xp 00000000 08:01 13 /tmp/libffi.so.8
        7f5000000000-7f5000008000 r-xp 00000000 08:01 14 /usr/lib/x86_64-linux-gnu/libffixer.so
        """))
        let direct: Bytes = [0xE8, 0x4D, 0xE0, 0xFF, 0xFF]
        let indirect: Bytes = [0x90, 0x90, 0x41, 0xFF, 0xD3]          // ffi_call_unix64: call *%r11
        XCTAssertTrue(j.isTrampolineLibraryCall(returnAddress: 0x7f10_0000_40c3, preceding: direct, regions: regions))
        XCTAssertTrue(j.isTrampolineLibraryCall(returnAddress: 0x7f30_0000_0100, preceding: direct, regions: regions), "a wheel's bundled libffi")
        XCTAssertFalse(j.isTrampolineLibraryCall(returnAddress: 0x7f10_0000_6f7a, preceding: indirect, regions: regions), "a ctypes foreign call")
        XCTAssertFalse(j.isTrampolineLibraryCall(returnAddress: 0x7f10_0000_1000, preceding: direct, regions: regions), "not its text")
        XCTAssertFalse(j.isTrampolineLibraryCall(returnAddress: 0x7f20_0000_0100, preceding: direct, regions: regions), "libc")
        XCTAssertFalse(j.isTrampolineLibraryCall(returnAddress: 0x7f40_0000_0100, preceding: direct, regions: regions), "outside the trusted roots")
        XCTAssertFalse(j.isTrampolineLibraryCall(returnAddress: 0x7f50_0000_0100, preceding: direct, regions: regions), "another library")
        XCTAssertFalse(j.isTrampolineLibraryCall(returnAddress: 0x7f60_0000_0100, preceding: direct, regions: regions), "unmapped")
    }
}
