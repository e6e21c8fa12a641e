// Runs in the forked child, before exec: no_new_privs, Landlock, the seccomp filter, and hand the
// notification listener to the supervisor. Any failure here exits 126 — the command is never
// started with less protection than the started event announces.
import CKitsuneSys

/// What the child needs to lock itself down.
struct SandboxSetup {
    let plan: Plan
    let policy: Policy
    let filter: [sock_filter]
    /// Extra files the kernel must allow to execute in allowlist mode (command, interpreters).
    let allowFiles: [Bytes]
    let socket: Int32
    let foreground: Bool
    /// The command's environment (the enforcer's, with the relay address and planted decoys).
    let environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    /// Container mode (a manifest rooted at `/`): W^X Landlock rules (ContainerSandbox.swift).
    var container: ContainerRules? = nil
    /// `KITSUNE_INIT_PROFILE=1`: the parent's start (CLOCK_MONOTONIC), to time the child's phases from.
    var profileOrigin: Int64? = nil
    /// The sidecar's ready pipe: the exec waits for its end of file (decoy files planted and watched).
    var sidecarReady: Int32 = -1
}

/// Lock the current (child) process down and exec the command. Never returns.
func enterSandbox(_ s: SandboxSetup, command: Bytes, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Never {
    func die(_ what: StaticString, _ err: Int32) -> Never {
        complain(Bytes(literal: "cannot start the protected command: ") + Bytes(literal: what) + Bytes(literal: ": ") + errorText(err))
        ks_exit(126)
    }
    _ = ks_setpgid(0, 0)
    if s.foreground { _ = ks_tcsetpgrp(0, ks_getpid()) }
    var marks: [(StaticString, Int64)] = []
    if s.profileOrigin != nil { marks.append(("child_start", ks_monotonic_ns())) }
    var r = ks_set_no_new_privs()
    if r < 0 { die("no_new_privs", -r) }
    if s.plan.landlock {
        r = applyLandlock(s)
        if r < 0 { die("landlock", -r) }
        if s.profileOrigin != nil { marks.append(("landlock", ks_monotonic_ns())) }
    }
    let listener = s.filter.withUnsafeBufferPointer { ks_seccomp_install($0.baseAddress, UInt16($0.count), s.plan.supervisor ? 1 : 0) }
    if listener < 0 { die("seccomp", -listener) }
    if s.profileOrigin != nil { marks.append(("seccomp", ks_monotonic_ns())) }
    if s.plan.supervisor {
        r = ks_send_fd(s.socket, listener)
        if r < 0 { die("handing over the seccomp listener", -r) }
        _ = ks_close(listener)
    }
    _ = ks_close(s.socket)
    if s.sidecarReady >= 0 {
        // Signals are still blocked here: the read ends at the pipe's end of file, not at an EINTR.
        var byte: UInt8 = 0
        while ks_read(s.sidecarReady, &byte, 1) > 0 {}
        _ = ks_close(s.sidecarReady)
        if s.profileOrigin != nil { marks.append(("decoys", ks_monotonic_ns())) }
    }
    _ = ks_restore_sigmask()
    if let origin = s.profileOrigin {
        marks.append(("exec", ks_monotonic_ns()))
        writeAll(2, InitProfile.render("child", marks, origin: origin))
    }
    r = withCPath(command) { ks_execve($0, argv, s.environment) }
    complain(command + Bytes(literal: ": ") + errorText(-r))
    ks_exit(-r == ks_errno_enoent() ? 127 : 126)
}

/// Landlock: execution only beneath the trusted roots (or, with an allowlist, only the listed files
/// and what the kernel needs to run them); no file under /proc opened for writing (`/proc/PID/mem`
/// rewrites a running program's code without any exec: "DDexec"); from ABI 6 also no signals to
/// processes outside.
func applyLandlock(_ s: SandboxSetup) -> Int32 {
    let execute = ks_ll_access_execute()
    // Without the list of places to keep writable, writes are not restricted at all (never all denied).
    let writable = s.container == nil ? writableTopLevel() : s.container!.writable.map { $0.0 }
    let write: UInt64 = s.container?.handledWrite ?? (writable.isEmpty ? 0 : ks_ll_access_write_file())
    let abi = ks_landlock_abi()
    let scope: UInt64 = s.plan.signalScope ? ks_ll_scope_signal() : 0
    let ruleset = ks_landlock_create(execute | write, scope, abi)
    if ruleset < 0 { return ruleset }
    var targets: [Bytes]
    if s.policy.allow.isEmpty {
        targets = s.policy.trustedRoots
    } else {
        targets = s.policy.allow + s.allowFiles
    }
    var rules = targets.map { ($0, execute) }
    // Writing stays allowed everywhere else (pipes and sockets reopened through /proc/self/fd are
    // not path-checked by Landlock; regular files resolve to their real path).
    if let c = s.container {
        for f in c.executableFiles { rules.append((f, execute)) }
        rules += c.writable
    } else {
        for entry in writable { rules.append((entry, write)) }
    }
    for (path, access) in rules {
        let fd = withCPath(path) { ks_open($0, ks_o_path() | ks_o_cloexec(), 0) }
        if fd < 0 { continue }      // an allowlisted file that does not exist cannot be executed anyway
        // A top-level symlink into /proc (or / itself) must not grant writes there.
        if access & write != 0, let real = canonicalPath(ofFD: fd), real == [47] || Path.isBeneath(real, Bytes(literal: "/proc")) {
            _ = ks_close(fd)
            continue
        }
        let r = ks_landlock_allow(ruleset, fd, access)
        _ = ks_close(fd)
        if r < 0 { return r }
    }
    let r = ks_landlock_restrict(ruleset)
    _ = ks_close(ruleset)
    return r
}

/// Every entry of `/` but `/proc`: where files may be opened for writing.
func writableTopLevel() -> [Bytes] {
    listDirectory([47]).compactMap { $0 == Bytes(literal: "proc") ? nil : [47] + $0 }
}

/// In allowlist mode the kernel must also let the wrapped command and the interpreters of every
/// allowed file run (the ELF loader, a script's `#!` interpreter).
func kernelAllowFiles(policy: Policy, command: Bytes) -> [Bytes] {
    guard !policy.allow.isEmpty else { return [] }
    var out: [Bytes] = []
    var queue = [command]
    for a in policy.allow where a.last != 47 { queue.append(a) }
    var seen = 0
    while seen < queue.count && seen < 64 {
        let f = queue[seen]
        seen += 1
        guard let c = canonicalExisting(f) else { continue }
        if !out.contains(c) { out.append(c) }
        if let interp = programInterpreter(of: c), !queue.contains(interp) { queue.append(interp) }
    }
    return out
}
