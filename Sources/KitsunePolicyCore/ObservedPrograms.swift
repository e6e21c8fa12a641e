// Learn mode (`mode: learn`): the programs a function runs, each reported once per enforcer start
// (one sandbox, one cold start), so a control plane can propose an allowlist from them.

/// The set of programs already reported in learn mode, bounded: what goes in it is chosen by
/// whoever runs code in the sandbox, an attacker included, so it never holds more than `capacity`
/// programs and never more than 32 bytes for each, whatever the length of their paths.
public struct ObservedPrograms {
    /// What ``insert(_:)`` did with a program not seen before.
    public enum Admission: Equatable {
        /// Recorded now: report it.
        case added
        /// The set has just become full: this program is not recorded; report the overflow, once.
        case overflow
        /// The set was already full: nothing is recorded or reported any more.
        case full
    }

    /// Most programs recorded (1024: far more than a function runs; a loop writing new files is not
    /// a function's normal life).
    public static let defaultCapacity = 1024

    public let capacity: Int
    /// SHA-256 of each recorded program's ``key(executable:script:)``.
    var seen: Set<Bytes> = []
    var overflowed = false

    public init(capacity: Int = ObservedPrograms.defaultCapacity) {
        self.capacity = max(0, capacity)
    }

    /// A learning set for `mode`: nil unless it is `learn` (enforce and audit keep none).
    public static func forMode(_ mode: Mode) -> ObservedPrograms? { mode == .learn ? ObservedPrograms() : nil }

    /// Programs recorded.
    public var count: Int { seen.count }

    /// Whether the overflow has been reported.
    public var isFull: Bool { overflowed }

    /// The identity of a program: its executable (a canonical path, or `memfd:NAME`) and, for an
    /// interpreter given a script file, that script. A fixed-size digest, so a long path costs what a
    /// short one does.
    public static func key(executable: Bytes, script: Bytes?) -> Bytes {
        var text = decimalBytes(executable.count)
        text.append(58)
        text.append(contentsOf: executable)
        if let s = script { text.append(0); text.append(contentsOf: s) }
        return SHA256.hash(text)
    }

    /// Whether the program with this key was recorded.
    public func contains(_ key: Bytes) -> Bool { seen.contains(key) }

    /// Record a program not seen before (check ``contains(_:)`` first).
    public mutating func insert(_ key: Bytes) -> Admission {
        if seen.contains(key) { return .added }
        if overflowed { return .full }
        if seen.count >= capacity { overflowed = true; return .overflow }
        seen.insert(key)
        return .added
    }
}

extension ExecJudge {
    /// The script file an interpreter of the table is asked to run (`python3 /var/task/app.py`,
    /// `busybox sh x.sh`), as the program will open it: resolved against the attempt's working
    /// directory, symlinks followed. Nil when the executable is no interpreter, when its program is
    /// inline (`-c`, `-e`, `-m`) or read from standard input, or when the file does not exist.
    /// Learn mode's observations only: enforce and audit never call it.
    public func programScript<O: FileOracle>(_ attempt: ExecAttempt, oracle: inout O) -> Bytes? {
        let (base, argv) = program(attempt.executable.path, attempt.argv)
        guard let rule = policy.interpreters.first(where: { matches(base, $0.names) }) else { return nil }
        let command = interpreterCommand(argv, rule)
        guard command.program == .file, let script = command.scripts.last else { return nil }
        let facts = oracle.lookup(script, cwd: attempt.cwd)
        guard facts.kind == .regular || facts.kind == .directory else { return nil }
        return facts.path
    }
}
