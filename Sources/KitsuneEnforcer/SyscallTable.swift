// The syscall ABI of the architecture the enforcer is compiled for: the audit architecture the
// seccomp filter accepts as native, and the numbers of the system calls the filter and the supervisor
// look at. Everything architecture-specific about syscalls lives here; the filter and the supervisor
// use the names (`Syscall.execve.nr`), never numbers.
//
// The numbers are the kernel's uapi tables (x86_64: arch/x86/entry/syscalls/syscall_64.tbl;
// aarch64: include/uapi/asm-generic/unistd.h). SyscallTableTests checks every one against the headers
// of both architectures (linux-libc-dev and libc6-dev-arm64-cross).

/// Native and foreign syscall ABIs of this build.
///
/// - x86_64: the native ABI is `AUDIT_ARCH_X86_64` with numbers below `__X32_SYSCALL_BIT`. A 64-bit
///   process can still enter the kernel through `int 0x80` (i386 ABI, `AUDIT_ARCH_I386`, other
///   numbers) or with the x32 bit set: both are foreign.
/// - aarch64: the native ABI is `AUDIT_ARCH_AARCH64`. There is no x32-like ABI (ILP32 was never
///   merged) and an AArch64 task cannot issue an AArch32 syscall: the 32-bit compat ABI
///   (`AUDIT_ARCH_ARM`) is only reachable by executing a 32-bit ARM program (on CPUs and kernels with
///   AArch32 EL0 and CONFIG_COMPAT). That exec is judged like any other; every syscall the 32-bit
///   program then makes is foreign.
///
/// Foreign syscalls are treated alike on both: reported by the supervisor (`syscall_abi`, event
/// `foreign_abi`) and refused in enforce mode; without a supervisor, refused in enforce mode.
enum SyscallABI {
#if arch(x86_64)
    /// AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).
    static let auditArch: UInt32 = 0xC000_003E
    /// __X32_SYSCALL_BIT: native-arch numbers at or above it are x32 syscalls.
    static let foreignNumberBase: UInt32? = 0x4000_0000
    /// ELF e_machine of this build's executables (EM_X86_64).
    static let elfMachine: UInt16 = 62
    static let name: StaticString = "x86_64"
#elseif arch(arm64)
    /// AUDIT_ARCH_AARCH64 (EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).
    static let auditArch: UInt32 = 0xC000_00B7
    /// No number range of the native arch belongs to another ABI.
    static let foreignNumberBase: UInt32? = nil
    /// ELF e_machine of this build's executables (EM_AARCH64).
    static let elfMachine: UInt16 = 183
    static let name: StaticString = "aarch64"
#else
#error("kitsune-enforcer: unsupported architecture (x86_64 and arm64 only)")
#endif

    /// Whether a notified syscall belongs to a foreign ABI (another audit arch, or x32).
    static func isForeign(arch: UInt32, nr: Int32) -> Bool {
        if arch != auditArch { return true }
        if let base = foreignNumberBase { return UInt32(bitPattern: nr) >= base }
        return false
    }
}

/// The system calls Kitsune's filter and supervisor look at, numbered for this build's architecture.
/// Only calls that exist on every supported architecture belong here; the legacy x86_64 calls that
/// aarch64 lacks (open, stat, fork…) are never needed: their *at / clone forms are what both reach.
enum Syscall: Int32 {
#if arch(x86_64)
    case mmap = 9, mprotect = 10, shmat = 30, execve = 59, kill = 62, ptrace = 101,
         rt_sigqueueinfo = 129, personality = 135, tkill = 200, tgkill = 234, openat = 257,
         rt_tgsigqueueinfo = 297, process_vm_readv = 310, process_vm_writev = 311, seccomp = 317,
         memfd_create = 319, execveat = 322, pkey_mprotect = 329,
         pidfd_send_signal = 424, pidfd_open = 434, pidfd_getfd = 438
#elseif arch(arm64)
    case openat = 56, personality = 92, ptrace = 117, kill = 129, tkill = 130, tgkill = 131,
         rt_sigqueueinfo = 138, shmat = 196, execve = 221, mmap = 222, mprotect = 226,
         rt_tgsigqueueinfo = 240, process_vm_readv = 270, process_vm_writev = 271, seccomp = 277,
         memfd_create = 279, execveat = 281, pkey_mprotect = 288,
         pidfd_send_signal = 424, pidfd_open = 434, pidfd_getfd = 438
#endif

    /// The number, as the filter compares it with `seccomp_data.nr`.
    var nr: UInt32 { UInt32(bitPattern: rawValue) }
}
