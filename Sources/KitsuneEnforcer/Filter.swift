// The seccomp BPF program installed in the protected process tree, built by a tiny two-pass
// assembler (BPF_STMT/BPF_JUMP are C macros Swift cannot import).
//
// Shape: check the architecture, load the syscall number, dispatch on it, and only for the few
// syscalls of interest look at arguments. Every other syscall returns ALLOW after reading only
// arch and nr, which lets the kernel's seccomp action cache skip the filter for them entirely.
import CKitsuneSys

enum BPF {
    static let ldAbsW: UInt16 = 0x20      // BPF_LD | BPF_W | BPF_ABS
    static let jeq: UInt16 = 0x15         // BPF_JMP | BPF_JEQ | BPF_K
    static let jge: UInt16 = 0x35         // BPF_JMP | BPF_JGE | BPF_K
    static let jset: UInt16 = 0x45        // BPF_JMP | BPF_JSET | BPF_K
    static let ret: UInt16 = 0x06         // BPF_RET | BPF_K
    static let offNr: UInt32 = 0
    static let offArch: UInt32 = 4
    static func offArg(_ i: Int) -> UInt32 { UInt32(16 + 8 * i) } // low 32 bits (little-endian)
}

/// A small BPF assembler with forward labels.
struct Assembler {
    enum Op {
        case load(UInt32)
        case jump(UInt16, UInt32, Int, Int)   // code, k, true label, false label (-1 = next)
        case ret(UInt32)
        case label(Int)
    }

    var ops: [Op] = []
    var labels = 0
    /// `ret` instructions placed at the end of the program, reached through their labels.
    var trailing: [(Int, UInt32)] = []

    /// A label at which the program returns `value` (emitted at the end).
    mutating func returnLabel(_ value: UInt32) -> Int {
        let l = newLabel()
        trailing.append((l, value))
        return l
    }

    mutating func newLabel() -> Int { labels += 1; return labels }
    mutating func bind(_ l: Int) { ops.append(.label(l)) }
    mutating func load(_ off: UInt32) { ops.append(.load(off)) }
    mutating func ret(_ v: UInt32) { ops.append(.ret(v)) }
    /// Jump to `t` when the condition holds, else to `f` (-1: the next instruction).
    mutating func jump(_ code: UInt16, _ k: UInt32, _ t: Int, _ f: Int) { ops.append(.jump(code, k, t, f)) }

    /// Resolve labels. Nil when a jump is out of BPF's 255-instruction reach.
    func assemble() -> [sock_filter]? {
        var ops = self.ops
        for (l, v) in trailing { ops.append(.label(l)); ops.append(.ret(v)) }
        var position: [Int: Int] = [:]
        var pc = 0
        for op in ops {
            if case .label(let l) = op { position[l] = pc } else { pc += 1 }
        }
        var out: [sock_filter] = []
        for op in ops {
            switch op {
            case .label: continue
            case .load(let off): out.append(sock_filter(code: BPF.ldAbsW, jt: 0, jf: 0, k: off))
            case .ret(let v): out.append(sock_filter(code: BPF.ret, jt: 0, jf: 0, k: v))
            case .jump(let code, let k, let t, let f):
                let here = out.count
                func offset(_ l: Int) -> Int? {
                    if l < 0 { return 0 }
                    guard let target = position[l] else { return nil }
                    return target - here - 1
                }
                guard let jt = offset(t), let jf = offset(f), jt >= 0, jt <= 255, jf >= 0, jf <= 255 else { return nil }
                out.append(sock_filter(code: code, jt: UInt8(jt), jf: UInt8(jf), k: k))
            }
        }
        return out
    }
}

/// Inputs of the filter.
struct FilterSpec {
    let plan: Plan
    /// Processes the protected tree may not signal, trace or read: the supervisor and its standby.
    let protectedPids: [Int32]
    /// The supervisor's process group (kill(-pgrp) is refused too).
    let protectedGroup: Int32
}

/// Build the filter program.
func buildFilter(_ spec: FilterSpec) -> [sock_filter]? {
    let allow = ks_ret_allow()
    let notify = ks_ret_notify()
    let eperm = ks_ret_errno(ks_errno_eperm())
    let eacces = ks_ret_errno(ks_errno_eacces())
    let plan = spec.plan
    let enforce = plan.mode == .enforce
    // Syscalls of a foreign ABI (see SyscallABI: int 0x80 and x32 on x86_64, AArch32 on aarch64): the
    // supervisor reports them (and refuses them in enforce mode); without one they are refused outright
    // in enforce mode.
    let foreign: UInt32 = plan.supervisor ? notify : (enforce ? eperm : allow)

    var a = Assembler()
    let lAllow = a.newLabel(), lForeign = a.newLabel()
    a.load(BPF.offArch)
    a.jump(BPF.jeq, SyscallABI.auditArch, -1, lForeign)
    a.load(BPF.offNr)
    if let base = SyscallABI.foreignNumberBase { a.jump(BPF.jge, base, lForeign, -1) }

    // Dispatch table: syscall → handler label.
    func handler(_ call: Syscall) -> Int {
        let l = a.newLabel()
        a.jump(BPF.jeq, call.nr, l, -1)
        return l
    }
    let hExecve = handler(.execve)
    let hExecveat = handler(.execveat)
    let hMmap = plan.watchMappings || plan.watchExecMemory ? handler(.mmap) : nil
    let hMprotect = plan.watchExecMemory ? handler(.mprotect) : nil
    let hPkeyMprotect = plan.watchExecMemory ? handler(.pkey_mprotect) : nil
    let hSeccomp = handler(.seccomp)
    // Other ways to make file contents executable without an executable mapping request.
    let hPersonality = plan.watchMappings ? handler(.personality) : nil
    let hShmat = plan.watchMappings ? handler(.shmat) : nil
    // Signals, tracing and memory access aimed at the supervisor: first argument is the pid (and the
    // signal, where there is one, in the argument given).
    var pidFirst: [(label: Int, signal: Int?)] = []
    let pidFirstCalls: [(Syscall, Int?)] = [(.tkill, 1), (.tgkill, 2), (.pidfd_open, nil), (.process_vm_readv, nil),
                                            (.process_vm_writev, nil), (.rt_sigqueueinfo, 1), (.rt_tgsigqueueinfo, 2)]
    for (call, signal) in pidFirstCalls { pidFirst.append((handler(call), signal)) }
    let hKill = handler(.kill)
    let hPtrace = handler(.ptrace)
    a.ret(allow)

    // execve: the supervisor judges it (Landlock still applies afterwards).
    a.bind(hExecve)
    a.ret(plan.supervisor ? notify : allow)
    // execveat: judged by the supervisor; without one, fd-based exec is refused outright in enforce mode.
    do {
        a.bind(hExecveat)
        if plan.supervisor { a.ret(notify) } else if enforce {
            let refuse = a.returnLabel(eacces)
            a.load(BPF.offArg(4))
            a.jump(BPF.jset, 0x1000, refuse, lAllow)                   // AT_EMPTY_PATH
        } else { a.ret(allow) }
    }
    // mmap(PROT_EXEC) of a file: native code is judged by where it comes from. W^X: writable and
    // executable, or anonymous and executable, goes to the supervisor (it decides by the runtime).
    let protWrite = UInt32(MemoryFlags.protWrite), protExec = UInt32(MemoryFlags.protExec)
    if let h = hMmap {
        let lNotify = a.returnLabel(notify)
        let fileMapping = plan.watchMappings ? lNotify : lAllow
        a.bind(h)
        a.load(BPF.offArg(2))
        a.jump(BPF.jset, protExec, -1, lAllow)
        if plan.watchExecMemory { a.jump(BPF.jset, protWrite, lNotify, -1) }
        a.load(BPF.offArg(3))
        a.jump(BPF.jset, UInt32(MemoryFlags.mapAnonymous), plan.watchExecMemory ? lNotify : lAllow, fileMapping)
    }
    // mprotect/pkey_mprotect adding PROT_EXEC: whether the memory is a clean file mapping is not in
    // the registers, so the supervisor looks (it is rare outside JIT runtimes).
    for h in [hMprotect, hPkeyMprotect] {
        guard let h else { continue }
        a.bind(h)
        a.load(BPF.offArg(2))
        a.jump(BPF.jset, protExec, -1, lAllow)
        a.ret(notify)
    }
    // personality(READ_IMPLIES_EXEC): every later PROT_READ mapping becomes executable, so a library
    // mapped without PROT_EXEC would run unseen. 0xffffffff only queries the current persona.
    if let h = hPersonality {
        a.bind(h)
        a.load(BPF.offArg(0))
        a.jump(BPF.jeq, 0xFFFF_FFFF, lAllow, -1)
        a.jump(BPF.jset, 0x0040_0000, -1, lAllow)
        a.ret(notify)
    }
    // shmat(SHM_EXEC): shared memory filled by anyone, mapped executable.
    if let h = hShmat {
        a.bind(h)
        a.load(BPF.offArg(2))
        a.jump(BPF.jset, 0o100000, -1, lAllow)
        a.ret(notify)
    }
    // seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER): a newer listener would steal our notifications.
    do {
        a.bind(hSeccomp)
        a.load(BPF.offArg(0))
        a.jump(BPF.jeq, 1, -1, lAllow)
        let refuse = a.returnLabel(eperm)
        a.load(BPF.offArg(1))
        a.jump(BPF.jset, 0x8, refuse, lAllow)
    }
    // Tampering is refused; with a supervisor it is also reported (it answers EPERM). A signal-0 probe
    // (`kill(ppid, 0)`: is my parent alive?) is refused quietly.
    let tamper: UInt32 = plan.supervisor ? notify : eperm
    let lQuiet = a.returnLabel(eperm), lTamper = a.returnLabel(tamper)
    func tamperIf(_ values: [UInt32], signal: Int?) {
        guard let arg = signal else { return denyIfAny(&a, values, deny: tamper, otherwise: lAllow) }
        let lMatch = a.newLabel()
        for (i, v) in values.enumerated() { a.jump(BPF.jeq, v, lMatch, i == values.count - 1 ? lAllow : -1) }
        if values.isEmpty { a.jump(BPF.jeq, 0, lAllow, lAllow) }
        a.bind(lMatch)
        a.load(BPF.offArg(arg))
        a.jump(BPF.jeq, 0, lQuiet, lTamper)
    }
    let pids = spec.protectedPids.map { UInt32(bitPattern: $0) }
    for (l, signal) in pidFirst {
        a.bind(l)
        a.load(BPF.offArg(0))
        tamperIf(pids, signal: signal)
    }
    do {
        a.bind(hKill)
        a.load(BPF.offArg(0))
        tamperIf(pids + [UInt32(bitPattern: -spec.protectedGroup), 0xFFFF_FFFF], signal: 1)
    }
    do {
        a.bind(hPtrace)
        a.load(BPF.offArg(1))
        tamperIf(pids, signal: nil)
    }
    a.bind(lForeign)
    a.ret(foreign)
    a.bind(lAllow)
    a.ret(allow)
    return a.assemble()
}

/// Compare the loaded word with each value: deny on a match, else go to `otherwise`.
func denyIfAny(_ a: inout Assembler, _ values: [UInt32], deny: UInt32, otherwise: Int) {
    let lDenyHere = a.newLabel()
    for (i, v) in values.enumerated() {
        a.jump(BPF.jeq, v, lDenyHere, i == values.count - 1 ? otherwise : -1)
    }
    if values.isEmpty { a.jump(BPF.jeq, 0, otherwise, otherwise) }
    a.bind(lDenyHere)
    a.ret(deny)
}
