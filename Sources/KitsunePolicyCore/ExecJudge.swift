// The decision engine: given what a process is trying to execute or map, which rules does it break?
// Pure logic over facts supplied by a ``FileOracle`` so it is unit-testable and compiles into the
// Embedded enforcer unchanged.

/// What a path turned out to be.
public enum FileKind {
    case regular
    /// An anonymous memory file (`memfd_create`): fileless execution.
    case memfd
    /// A socket, or a pipe another process is feeding (`python3 /dev/stdin` fed by `curl`). A pipe
    /// only the parent writes (a here-document) is `.other`: its text comes from the parent, like `-c`.
    case stream
    case directory
    case missing
    case other
}

/// Facts about a file as the target process would see it.
public struct FileFacts {
    /// Canonical absolute path (symlinks resolved), or `memfd:NAME`.
    public var path: Bytes
    public var kind: FileKind
    public var size: Int
    /// Cache identity: device, inode, size and change times.
    public var identity: FileIdentity
    /// Unlinked while open (a shell's here-document in a temporary file).
    public var deleted = false

    public init(path: Bytes, kind: FileKind, size: Int = 0, identity: FileIdentity = FileIdentity()) {
        self.path = path
        self.kind = kind
        self.size = size
        self.identity = identity
    }
}

/// Identifies one version of one file (a change of content changes ctime).
public struct FileIdentity: Hashable {
    public var dev: UInt64 = 0, ino: UInt64 = 0, size: UInt64 = 0
    public var mtime: Int64 = 0, ctime: Int64 = 0

    public init(dev: UInt64 = 0, ino: UInt64 = 0, size: UInt64 = 0, mtime: Int64 = 0, ctime: Int64 = 0) {
        self.dev = dev; self.ino = ino; self.size = size; self.mtime = mtime; self.ctime = ctime
    }
}

/// Supplies file facts. The enforcer resolves paths through `/proc/PID/cwd` of the target.
public protocol FileOracle {
    /// Resolve `path` (absolute, or relative to `cwd`) following symlinks.
    mutating func lookup(_ path: Bytes, cwd: Bytes) -> FileFacts
    /// SHA-256 of a regular file's contents; nil when unreadable.
    mutating func sha256(of file: FileFacts) -> Bytes?
    /// The entry names of a directory (absolute path), for `*` in start-up locations; empty when it
    /// cannot be listed.
    mutating func entries(of directory: Bytes) -> [Bytes]
}

extension FileOracle {
    /// An oracle that cannot list directories: start-up locations with `*` or `?` match nothing.
    public mutating func entries(of directory: Bytes) -> [Bytes] { [] }
}

/// Why an execution was blocked or reported (the `reason` of an event).
public enum Reason {
    case blocklist, fileless, loader, drift, interpreterScript, notAllowlisted, honeypot, abi
    /// Memory made executable another way than an executable mapping of a file (`personality`, `shmat`).
    case nativeCode
    /// The function's real credentials in an exec's arguments, or an environment dump that holds them.
    case credentials
    /// A signal, trace or memory access aimed at the enforcer's own processes (always refused).
    case tamper
    /// Writable+executable, anonymous executable or later-executable memory outside a JIT runtime.
    case execMemory

    /// Event spelling.
    public var name: Bytes {
        switch self {
        case .blocklist: return Bytes(literal: "blocklist")
        case .fileless: return Bytes(literal: "fileless")
        case .loader: return Bytes(literal: "loader")
        case .drift: return Bytes(literal: "drift")
        case .interpreterScript: return Bytes(literal: "interpreter_script")
        case .notAllowlisted: return Bytes(literal: "not_allowlisted")
        case .honeypot: return Bytes(literal: "honeypot")
        case .abi: return Bytes(literal: "syscall_abi")
        case .nativeCode: return Bytes(literal: "native_code")
        case .credentials: return Bytes(literal: "credentials")
        case .tamper: return Bytes(literal: "tamper")
        case .execMemory: return Bytes(literal: "exec_memory")
        }
    }
}

/// One broken rule.
public struct Violation {
    public let reason: Reason
    /// The file judged (the executable, the loader's target, the interpreter's script).
    public let subject: Bytes
    public let action: ControlAction
}

/// The outcome for one attempt.
public struct Verdict {
    /// Broken rules, most serious first; empty when the attempt is clean.
    public var violations: [Violation] = []
    /// Whether the attempt must fail (enforce mode and a blocking violation).
    public var block = false
    /// The primary file judged (loader target or script when there is one).
    public var subject: FileFacts?

    public var isClean: Bool { violations.isEmpty }
}

/// What a process tried to execute.
public struct ExecAttempt {
    public var executable: FileFacts
    public var argv: [Bytes]
    public var cwd: Bytes
    /// The environment block, read only when honeypot values are configured.
    public var environment: [Bytes]
    /// The wrapped command's own first exec (exempt from the allowlist).
    public var isInitial: Bool
    /// The program's path as the caller named it, before symlinks are resolved (`/tmp/venv/bin/python3`).
    public var invokedPath: Bytes?

    public init(executable: FileFacts, argv: [Bytes], cwd: Bytes, environment: [Bytes] = [], isInitial: Bool = false,
                invokedPath: Bytes? = nil) {
        self.executable = executable
        self.argv = argv
        self.cwd = cwd
        self.environment = environment
        self.isInitial = isInitial
        self.invokedPath = invokedPath
    }
}
