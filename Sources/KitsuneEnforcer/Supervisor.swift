// The resident loop: answer seccomp notifications (every exec, every executable file mapping),
// forward signals to the command, reap children, and exit the way the command exited.
import CKitsuneSys

/// Answers notifications for the protected process tree.
struct Supervisor {
    let listener: Int32
    let judge: ExecJudge
    let sink: EventSink
    var oracle = ProcOracle()
    /// The wrapped command's first exec has not been seen yet (exempt from the allowlist).
    var initialPending = true
    let commandPid: Int
    /// The enforcer's own pid: where an event's `ancestors` stop.
    var enforcerPid = 0
    /// Where the id of the notification being decided is published (for the audit standby), if any.
    var inFlight: UnsafeMutablePointer<UInt64>?
    /// The last decision reported, to fold immediate repeats.
    var lastReport: LastReport?
    /// Learn mode only (nil otherwise): the programs already reported as `observed`.
    var observed: ObservedPrograms?
    /// `KITSUNE_INIT_PROFILE=1` only (nil otherwise): notifications answered, by syscall.
    var counts: NotificationCounts?

    /// Handle one notification. Returns false when the listener is gone.
    mutating func serveOne() -> Bool {
        var n = ks_notif_t()
        let r = ks_notif_recv(listener, &n)
        if r == -ks_errno_enoent() { return true }     // the target died before we read it
        if r < 0 { return false }
        inFlight?.pointee = n.id
        counts?.count(n.nr)
        let deny = decide(n)
        _ = ks_notif_respond(listener, n.id, deny)
        inFlight?.pointee = 0
        return true
    }

    /// Decide one notification: 0 to let the syscall continue, else the errno it fails with.
    mutating func decide(_ n: ks_notif_t) -> Int32 {
        let pid = Int(n.pid)
        let enforce = judge.policy.mode == .enforce
        if SyscallABI.isForeign(arch: n.arch, nr: n.nr) {
            // A foreign syscall ABI (int 0x80 or x32 on x86_64, AArch32 on aarch64): reported, and refused in enforce mode.
            guard ks_notif_id_valid(listener, n.id) == 1 else { return enforce ? ks_errno_eperm() : 0 }
            // A loop of different foreign syscalls folds into one event per process (100 ms window).
            report(single(.abi), executable: executableName(pid), argv: [Bytes(literal: "syscall:") + decimalBytes(Int(n.nr))],
                   syscall: "foreign_abi", pid: pid, foldAs: [])
            return enforce ? ks_errno_eperm() : 0
        }
        oracle.pid = pid
        if let (call, pidArg) = tamperCall(n.nr) {
            // The filter only notifies these when aimed at Kitsune's own processes: always refused.
            guard ks_notif_id_valid(listener, n.id) == 1 else { return ks_errno_eperm() }
            var v = single(.tamper)
            v.block = true                       // in audit mode too: it protects the monitor, not the function
            report(v, executable: executableName(pid),
                   argv: [Bytes(literal: call) + [40] + decimalBytes(Int(Int32(truncatingIfNeeded: n.arg(pidArg)))) + [41]],
                   syscall: "tamper", pid: pid, foldAs: [])
            return ks_errno_eperm()
        }
        if n.nr == Syscall.personality.rawValue || n.nr == Syscall.shmat.rawValue {
            // Only the dangerous flag is notified (READ_IMPLIES_EXEC, SHM_EXEC): no memory to read.
            guard ks_notif_id_valid(listener, n.id) == 1 else { return 0 }
            let personality = n.nr == Syscall.personality.rawValue
            let v = single(.nativeCode, judge.policy.nativeCode)
            let call = personality ? Bytes(literal: "personality(READ_IMPLIES_EXEC)") : Bytes(literal: "shmat(SHM_EXEC)")
            report(v, executable: executableName(pid), argv: [call], syscall: personality ? "personality" : "shmat", pid: pid)
            return v.block ? ks_errno_eperm() : 0
        }
        if n.nr == Syscall.mmap.rawValue {
            if judge.policy.execMemory != .off, let shape = ExecMemoryShape.ofMmap(prot: n.arg(2), flags: n.arg(3)) {
                return decideExecMapping(n, shape: shape)
            }
            let fd = Int(Int32(truncatingIfNeeded: n.arg(4)))
            // Fast path (every shared library of every program): one readlink, no stat.
            let link = readLink(procPath(pid, "/fd/") + decimalBytes(fd))
            if let path = link, judge.isMappingTrustedByPath(path) { return 0 }
            if let l = link, isTrampolineMapping(n, link: l) { return 0 }
            let file = oracle.lookup(fd: fd, of: pid)
            let v = judge.judgeMapping(file, oracle: &oracle)
            if v.isClean { return 0 }
            guard ks_notif_id_valid(listener, n.id) == 1 else { return 0 }
            report(v, executable: file.path, argv: [], syscall: "mmap", pid: pid)
            return v.block ? ks_errno_eperm() : 0
        }
        if n.nr == Syscall.mprotect.rawValue { return decideExecutableGain(n, syscall: "mprotect") }
        if n.nr == Syscall.pkey_mprotect.rawValue { return decideExecutableGain(n, syscall: "pkey_mprotect") }
        let isExecveat = n.nr == Syscall.execveat.rawValue
        var mem = TargetMemory(pid: pid)
        let pathPtr = isExecveat ? n.arg(1) : n.arg(0)
        let argvPtr = isExecveat ? n.arg(2) : n.arg(1)
        let envPtr = isExecveat ? n.arg(3) : n.arg(2)
        let path = mem.string(at: pathPtr)
        let argv = mem.stringArray(at: argvPtr)
        // Relative paths resolve through the target's cwd link; the kernel follows it for us.
        let cwd = procPath(pid, "/cwd")
        guard let path, let argv else {
            // Only act on what we read if the target is still blocked in this very syscall
            // (seccomp_unotify(2)): a dead or interrupted target gets no answer and no event.
            guard ks_notif_id_valid(listener, n.id) == 1 else { return 0 }
            // Unreadable (e.g. the process made itself undumpable): fail closed in enforce mode.
            report(single(.drift), executable: Bytes(literal: "unreadable"), argv: [], syscall: isExecveat ? "execveat" : "execve", pid: pid)
            return enforce ? ks_errno_eacces() : 0
        }
        var exe: FileFacts
        let dirfd = Int(Int32(truncatingIfNeeded: n.arg(0)))
        let emptyPath = isExecveat && (n.arg(4) & 0x1000) != 0 && path.isEmpty
        if emptyPath {
            exe = oracle.lookup(fd: dirfd, of: pid)
        } else if isExecveat && path.first != 47 && dirfd != -100 {
            exe = oracle.lookup(procPath(pid, "/fd/") + decimalBytes(dirfd) + [47] + path, cwd: cwd)
        } else {
            exe = oracle.lookup(path, cwd: cwd)
        }
        if exe.kind == .missing { return 0 }       // the kernel answers ENOENT itself (execvp's PATH walk)
        // The environment: for honeypot values, and for interpreters that take code from it (NODE_OPTIONS).
        var env: [Bytes] = []
        if judge.needsEnvironment(exe.path) {
            guard let e = mem.stringArray(at: envPtr, maxCount: Limits.envCountMax) else {
                // Needed but unreadable: decided like an unreadable command line.
                guard ks_notif_id_valid(listener, n.id) == 1 else { return 0 }
                report(single(.drift), executable: exe.path, argv: argv, syscall: isExecveat ? "execveat" : "execve", pid: pid)
                return enforce ? ks_errno_eacces() : 0
            }
            env = e
        }
        let initial = initialPending && pid == commandPid
        if initial { initialPending = false }
        // The path as named (a virtual environment's `bin/python3` link): relative to the cwd, not to a dirfd.
        let invoked = emptyPath || (isExecveat && path.first != 47 && dirfd != -100) ? nil : path
        let attempt = ExecAttempt(executable: exe, argv: argv, cwd: cwd, environment: env, isInitial: initial, invokedPath: invoked)
        let v = judge.judge(attempt, oracle: &oracle)
        let call: StaticString = isExecveat ? "execveat" : "execve"
        // A clean verdict only lets the syscall continue (Landlock still applies): nothing acts on
        // the memory we read. Anything else is acted on only if the target is still waiting in this
        // very syscall (seccomp_unotify(2)).
        // Learn mode reports each program once per start (enforce and audit pay only the nil checks).
        if v.isClean {
            if observed != nil { observe(attempt, v, n, syscall: call, pid: pid) }
            return 0
        }
        guard ks_notif_id_valid(listener, n.id) == 1 else { return 0 }
        // The invocation's X-Ray trace header, when the runtime put it in the environment (read only with honeypots on).
        let tracePrefix = Bytes(literal: "_X_AMZN_TRACE_ID=")
        let trace = env.first { $0.hasPrefix(tracePrefix) }.map { Bytes($0[tracePrefix.count...]) }
        report(v, executable: exe.path, argv: argv, syscall: call, pid: pid, trace: trace)
        // After the report, which hashed the file: the observation carries that digest.
        if observed != nil { observe(attempt, v, n, syscall: call, pid: pid) }
        return v.block ? ks_errno_eacces() : 0
    }

    /// A verdict of one rule, about no particular file: blocked when `action` is `block` in enforce mode.
    func single(_ reason: Reason, _ action: ControlAction = .block) -> Verdict {
        var v = Verdict()
        v.violations = [Violation(reason: reason, subject: [], action: action)]
        v.block = judge.policy.mode == .enforce && action == .block
        return v
    }

    /// The executable of a target, for events about a syscall rather than an exec.
    func executableName(_ pid: Int) -> Bytes { readLink(procPath(pid, "/exe")) ?? Bytes(literal: "unknown") }

    mutating func report(_ v: Verdict, executable: Bytes, argv: [Bytes], syscall: StaticString, pid: Int, trace: Bytes? = nil,
                         foldAs: [Bytes]? = nil) {
        // A shell walking PATH tries /usr/bin/cp, then /bin/cp: one file on merged-/usr systems, so
        // the same decision twice. The second is still refused, but not reported again.
        let key = LastReport(pid: pid, executable: executable, argv: foldAs ?? argv, block: v.block, time: ks_monotonic_ns())
        if let last = lastReport, last.repeats(key) { lastReport = key; return }
        lastReport = key
        var digest: Bytes?
        if let s = v.subject, s.kind == .regular { digest = oracle.sha256(of: s) }
        // Who started the attempt: read now, when the event is written, not while execs are allowed.
        let ppid = parentPid(of: pid)
        let chain = ancestors(from: ppid, top: commandPid, stop: enforcerPid).map {
            Ancestor(pid: $0.pid, executable: $0.executable, argv: redacted($0.argv), truncated: $0.truncated)
        }
        sink.decision(DecisionReport(verdict: v, executable: executable, argv: redacted(argv), syscall: syscall,
                                     pid: pid, ppid: ppid, ancestors: chain, sha256: digest, requestID: nil, traceID: trace))
    }

    func redacted(_ argv: [Bytes]) -> [Bytes] { redactingCredentials(argv, judge.policy.credentialValues) }
}

/// Events never carry the function's real credentials, whatever a command line held: each value
/// (8 bytes or more) reads `[redacted]`.
func redactingCredentials(_ argv: [Bytes], _ values: [Bytes]) -> [Bytes] {
    var shown = argv
    for secret in values where secret.count >= 8 {
        shown = shown.map { $0.replacing(secret, with: Bytes(literal: "[redacted]")) }
    }
    return shown
}

/// The name of a signal, trace or memory-access syscall the filter notifies only as tampering, and
/// which argument holds the pid it aims at.
func tamperCall(_ nr: Int32) -> (StaticString, Int)? {
    let calls: [(Syscall, StaticString)] = [
        (.kill, "kill"), (.tkill, "tkill"), (.tgkill, "tgkill"), (.pidfd_open, "pidfd_open"), (.ptrace, "ptrace"),
        (.process_vm_readv, "process_vm_readv"), (.process_vm_writev, "process_vm_writev"),
        (.rt_sigqueueinfo, "rt_sigqueueinfo"), (.rt_tgsigqueueinfo, "rt_tgsigqueueinfo"),
    ]
    for (call, name) in calls where call.rawValue == nr { return (name, call == .ptrace ? 1 : 0) }
    return nil
}

/// Identity of a reported decision: the same process, file, arguments and action.
struct LastReport {
    let pid: Int
    let executable: Bytes
    let argv: [Bytes]
    let block: Bool
    let time: Int64

    /// The same decision again within 100 ms.
    func repeats(_ next: LastReport) -> Bool {
        next.time - time < 100_000_000 && pid == next.pid && block == next.block
            && executable == next.executable && argv == next.argv   // executables are resolved paths
    }
}

extension ks_notif_t {
    /// Syscall argument `i` (0…5).
    func arg(_ i: Int) -> UInt64 {
        switch i {
        case 0: return args.0
        case 1: return args.1
        case 2: return args.2
        case 3: return args.3
        case 4: return args.4
        default: return args.5
        }
    }
}
