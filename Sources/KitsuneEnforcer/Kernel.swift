// What this kernel offers (probed, never assumed), and which controls are therefore in force.
import CKitsuneSys

/// Kernel mechanisms available to an unprivileged process.
struct Kernel {
    var release: Bytes = []
    /// Landlock ABI version; 0 when Landlock is missing or disabled.
    var landlockABI = 0
    /// seccomp user notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux ≥ 5.5).
    var userNotification = false
    /// Whether to ask the listener for synchronous wake-ups (tried once it exists; Linux ≥ 6.6 grants it).
    var trySyncWakeup = true
    /// Mechanisms switched off by `KITSUNE_SIMULATE_MISSING` (testing only).
    var simulatedMissing: [Bytes] = []

    static func probe() -> Kernel {
        var k = Kernel()
        var buf = Bytes(repeating: 0, count: 128)
        let ok = buf.withUnsafeMutableBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { ks_uname_release($0, b.count) }
        }
        if ok == 0 { k.release = Bytes(buf.prefix { $0 != 0 }) }
        let abi = ks_landlock_abi()
        k.landlockABI = abi > 0 ? Int(abi) : 0
        k.userNotification = ks_seccomp_unotify_available() == 1 && Self.atLeast(k.release, 5, 5)
        if let sim = environment("KITSUNE_SIMULATE_MISSING") {
            for item in sim.split(separator: 44) where !item.isEmpty {
                k.simulatedMissing.append(item)
                if item == Bytes(literal: "landlock") { k.landlockABI = 0 }
                if item == Bytes(literal: "unotify") { k.userNotification = false }
                if item == Bytes(literal: "sync_wakeup") { k.trySyncWakeup = false }
            }
        }
        return k
    }

    /// Whether `release` (e.g. `6.1.0-13-amd64`) is at least major.minor.
    static func atLeast(_ release: Bytes, _ major: Int, _ minor: Int) -> Bool {
        let parts = release.split(separator: 46)
        guard parts.count >= 2 else { return false }
        let maj = parts[0].decimalValue() ?? 0
        let min = Bytes(parts[1].prefix { $0 >= 48 && $0 <= 57 }).decimalValue() ?? 0
        return maj > major || (maj == major && min >= minor)
    }
}

/// Which mechanism enforces each control, decided from the kernel and the policy.
struct Plan {
    let mode: Mode
    /// Landlock restricts execution to the trusted roots (enforce mode only: audit never blocks).
    let landlock: Bool
    /// Landlock also forbids signalling processes outside the sandbox (ABI ≥ 6): the supervisor.
    let signalScope: Bool
    /// The supervisor judges every exec and executable mapping.
    let supervisor: Bool
    /// Executable file mappings are sent to the supervisor.
    let watchMappings: Bool
    /// Writable+executable, anonymous executable and later-executable memory (mmap/mprotect prot and
    /// flags, decided in the filter) is sent to the supervisor, which refuses it outside JIT runtimes.
    let watchExecMemory: Bool

    init(kernel: Kernel, policy: Policy) {
        mode = policy.mode
        landlock = policy.mode == .enforce && kernel.landlockABI >= 1
        signalScope = landlock && kernel.landlockABI >= 6
        supervisor = kernel.userNotification
        watchMappings = supervisor && policy.nativeCode != .off
        watchExecMemory = supervisor && policy.execMemory != .off
    }

    /// `kernel`, `supervisor`, `kernel+supervisor` or `off` for a control.
    func by(kernel k: Bool, supervisor s: Bool) -> Bytes {
        if k && s { return Bytes(literal: "kernel+supervisor") }
        if k { return Bytes(literal: "kernel") }
        if s { return Bytes(literal: "supervisor") }
        return Bytes(literal: "off")
    }

    /// Control name → enforcing mechanism.
    func controls(policy: Policy, manifest: Bool) -> [(StaticString, Bytes)] {
        let s = supervisor
        var out: [(StaticString, Bytes)] = [
            ("drift", by(kernel: landlock, supervisor: s)),
            ("fileless", by(kernel: landlock || (mode == .enforce && !s), supervisor: s)),
            ("loader", by(kernel: false, supervisor: s)),
            ("interpreter_script", policy.interpreterScripts == .off ? Bytes(literal: "off") : by(kernel: false, supervisor: s)),
            ("native_code", watchMappings ? Bytes(literal: "supervisor") : Bytes(literal: "off")),
            ("exec_memory", watchExecMemory ? Bytes(literal: "seccomp+supervisor") : Bytes(literal: "off")),
            ("blocklist", by(kernel: false, supervisor: s)),
            ("allowlist", policy.allow.isEmpty ? Bytes(literal: "off") : by(kernel: landlock, supervisor: s)),
            ("manifest", manifest ? by(kernel: false, supervisor: s) : Bytes(literal: "off")),
            // /proc/PID/mem opened for writing would patch a running program's code (no exec at all).
            ("process_memory_write", landlock ? Bytes(literal: "kernel") : Bytes(literal: "off")),
            ("tamper", signalScope ? Bytes(literal: "kernel+seccomp") : Bytes(literal: "seccomp")),
        ]
        // Learn mode's observations come from the supervisor's exec decisions.
        if mode == .learn { out.append(("learn", s ? Bytes(literal: "supervisor") : Bytes(literal: "off"))) }
        out.append(("credentials", policy.credentials == .off ? Bytes(literal: "off") : by(kernel: false, supervisor: s)))
        if !policy.honeypot.isEnabled { out.append(("honeypot", Bytes(literal: "off"))) }
        else { out.append(("honeypot", by(kernel: false, supervisor: s))) }
        return out
    }
}
