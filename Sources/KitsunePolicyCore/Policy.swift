// The enforcement policy: what may execute. Loaded from the built-in defaults, then the user's
// policy file, then command-line flags (each layer overrides the one before; see docs/policy.md).

/// Enforce blocks; audit reports what enforce would block; learn is audit that also reports each
/// distinct program the function runs, once per enforcer start (``ObservedPrograms``).
public enum Mode {
    case enforce, audit, learn

    /// Every mode, in the order error messages list them.
    public static var all: [Mode] { [.enforce, .audit, .learn] }

    /// The policy's and the events' spelling.
    public var name: Bytes {
        switch self {
        case .enforce: return Bytes(literal: "enforce")
        case .audit: return Bytes(literal: "audit")
        case .learn: return Bytes(literal: "learn")
        }
    }

    /// The mode spelt `text`, or nil.
    public static func named(_ text: Bytes) -> Mode? { all.first { $0.name == text } }
}

/// What to do about one class of finding.
public enum ControlAction {
    /// Blocked in enforce mode, reported in audit mode.
    case block
    /// Reported in both modes, never blocked.
    case report
    /// Ignored.
    case off
}

/// How an interpreter receives its program, so that `sh /tmp/x.sh` can be told from `sh -c 'cmd'`.
public struct InterpreterRule {
    /// Base-name patterns (`python3*`, `sh`).
    public var names: [Bytes] = []
    /// Options whose presence means the program is given inline or by module name (`-c`, `-e`, `-m`).
    public var inlineOptions: [Bytes] = []
    /// Options that take a value in the next argument (`-W arg`).
    public var valueOptions: [Bytes] = []
    /// Options whose value is itself a script file to judge (`node --require FILE`); one ending in
    /// `:` or `=` takes its value attached (`-javaagent:FILE`).
    public var scriptOptions: [Bytes] = []
    /// Script options whose value is a `:`-separated list of code locations (`java -cp a.jar:/tmp`).
    public var listOptions: [Bytes] = []
    /// The first non-option argument is the program text itself (`awk 'PROGRAM'`), not a script file.
    public var inlineProgram = false
    /// Variables read as more command-line options (`NODE_OPTIONS`, `JAVA_TOOL_OPTIONS`).
    public var environmentOptions: [Bytes] = []
    /// Variables naming a file of code run at start (`BASH_ENV`).
    public var environmentScripts: [Bytes] = []
    /// Variables listing directories code is loaded from (`PYTHONPATH`, `NODE_PATH`).
    public var environmentPaths: [Bytes] = []
    /// Other places the interpreter reads code from at start-up on its own: the user site directory,
    /// the working directory on the module path, a virtual environment beside the program.
    public var startup: [StartupLocation] = []
    /// Options with which the interpreter ignores its environment (`python3 -E`): variables in the
    /// `unless` lists of ``startup`` are not honoured then. Start-up variables are judged regardless.
    public var ignoreEnvironment: [Bytes] = []

    /// Whether judging an exec of this interpreter needs the new program's environment.
    public var readsEnvironment: Bool {
        !environmentOptions.isEmpty || !environmentScripts.isEmpty || !environmentPaths.isEmpty || !startup.isEmpty
    }

    public init() {}
}

/// One place an interpreter takes code from at start-up without being told on its command line
/// (`interpreters[].startup` in the policy). Code found there outside the trusted roots is judged like
/// a script from a writable place.
public struct StartupLocation {
    /// Where the code is.
    public enum Place {
        /// A file or directory read when it exists: `$NAME/rest`, with `NAME` taken from the new
        /// program's environment (skipped when unset or not absolute); `*` and `?` match within one
        /// path component (`$HOME/.local/lib/python*/site-packages`).
        case path(Bytes)
        /// The working directory, when the program is inline (`-c`, `-m`, `-e`) or read from standard
        /// input: it comes first on the module path (`python3 -c` with a `json.py` beside it).
        case workingDirectory
        /// A file beside the program as invoked, before symlinks are resolved (a virtual environment's
        /// `pyvenv.cfg` beside, or one directory above, `/tmp/venv/bin/python3` → `/usr/bin/python3`).
        case besideProgram(Bytes)
    }

    public var place: Place
    /// Options (`-s`, `-P`) or variables (`PYTHONNOUSERSITE`: set and not empty) that turn this place off.
    public var unless: [Bytes] = []

    public init(_ place: Place, unless: [Bytes] = []) {
        self.place = place
        self.unless = unless
    }

    /// `$NAME/rest` → (`NAME`, `/rest`); nil for anything else (`NAME`: letters, digits, `_`).
    public static func variable(of template: Bytes) -> (name: Bytes, rest: Bytes)? {
        guard template.first == 36 else { return nil }
        var i = 1
        while i < template.count {
            let c = template[i]
            let letter = c == 95 || (65...90).contains(c) || (97...122).contains(c)
            guard letter || (i > 1 && (48...57).contains(c)) else { break }
            i += 1
        }
        guard i > 1, i + 1 < template.count, template[i] == 47 else { return nil }
        return (Bytes(template[1..<i]), Bytes(template[i...]))
    }
}

/// A program that prints the environment when it is given no command or name (`env`, `printenv`).
public struct DumperRule {
    public var names: [Bytes] = []
    /// Options taking a value (`env -u NAME`, `-C DIR`).
    public var valueOptions: [Bytes] = []
    /// Options after which nothing inherited is printed (`env -i`).
    public var clearingOptions: [Bytes] = []
    /// Options whose value is a command to run (`env -S "sh -c …"`, `-S…`, `--split-string=…`).
    public var commandOptions: [Bytes] = []

    public init() {}
}

/// How a dynamic loader (`ld-linux*.so*`) is told which program to run.
public struct LoaderRule {
    public var names: [Bytes] = []
    /// Options taking a value (`--argv0 X`).
    public var valueOptions: [Bytes] = []
    /// Options whose value is native code or a library directory (`--preload`, `--library-path`).
    public var codeOptions: [Bytes] = []

    public init() {}
}

/// Decoy credentials planted for attackers; any use is reported.
public struct HoneypotConfig {
    /// Decoy environment variables to plant in the command's environment: a name and either a
    /// generator (`aws-access-key-id`, `aws-secret-access-key`: fresh random values in AWS's format at
    /// every start) or a literal value (e.g. a canary key from `kitsune honeytoken create`).
    public var env: [(name: Bytes, value: Bytes)] = []
    /// Decoy values (an exec whose argv or environment carries one is reported). Planted values are
    /// added here when they are generated.
    public var values: [Bytes] = []
    /// Decoy files: planted (mode 0600, with the decoy key pair) when missing; any open, change or
    /// removal is reported, and so is an exec naming one in its arguments.
    public var files: [Bytes] = []
    /// `NAME=value` entries planted by the enforcer itself: an environment block carrying exactly one
    /// of these is inherited, not a use of the decoy.
    public var planted: [Bytes] = []

    public init() {}

    /// Whether anything is planted or watched.
    public var isEnabled: Bool { !env.isEmpty || !values.isEmpty || !files.isEmpty }

    /// The generator names understood in `env`.
    public static let generators: [Bytes] = [Bytes(literal: "aws-access-key-id"), Bytes(literal: "aws-secret-access-key")]
}

/// The complete, merged policy.
public struct Policy {
    public var mode: Mode = .enforce
    /// Directories of the deployed code (`/var/task`, `/opt`).
    public var packageRoots: [Bytes] = []
    /// Trusted read-only runtime and OS directories.
    public var systemRoots: [Bytes] = []
    /// Content inventory; a file beneath its root that differs from it is drift.
    public var manifest: Bytes?
    /// Blocked base names (glob patterns allowed).
    public var blockNames: [Bytes] = []
    /// Blocked absolute paths.
    public var blockPaths: [Bytes] = []
    /// Blocked SHA-256 digests (32 bytes each).
    public var blockHashes: [Bytes] = []
    /// When non-empty, only these files (or directories, written with a trailing `/`) may be executed
    /// after the wrapped command itself.
    public var allow: [Bytes] = []
    /// An allowed interpreter fed a script from outside the trusted roots.
    public var interpreterScripts: ControlAction = .block
    /// Native code mapped executable from outside the trusted roots (`LD_PRELOAD`, `dlopen`, `ld.so /tmp/x`).
    public var nativeCode: ControlAction = .block
    /// Writable+executable, anonymous executable, or later-executable memory in a process that is
    /// not a JIT runtime (W^X per runtime; `exec_memory`).
    public var execMemory: ControlAction = .block
    /// Base-name globs of the runtimes that need such memory for their JIT (`node`, `java`, `dotnet`).
    public var jitRuntimes: [Bytes] = []
    /// Names of memfds whose executable mapping is a foreign-function library's trampoline page
    /// (libffi's fallback when writable+executable memory is refused), not fileless code.
    public var trampolineMemfds: [Bytes] = []
    public var interpreters: [InterpreterRule] = []
    /// Multi-call binaries (`busybox`, `toybox`): the program they run is named by `argv[0]` (or by
    /// `argv[1]` when `argv[0]` names the binary itself), so rules match that name.
    public var multicall: [Bytes] = []
    public var loaders: [LoaderRule] = []
    public var honeypot = HoneypotConfig()
    /// The function's real credentials used outside their variables: an exec carrying one in its
    /// arguments (`curl …?k=$AWS_SECRET_ACCESS_KEY`) or dumping the environment that holds them.
    public var credentials: ControlAction = .block
    /// The variables holding those credentials (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
    public var credentialVariables: [Bytes] = []
    /// Their values, read from the enforcer's environment at start (never from a file).
    public var credentialValues: [Bytes] = []
    /// Programs that print every variable when given no command (`env`, `printenv`).
    public var environmentDumpers: [DumperRule] = []
    /// Where events go: a file path, or `-` for standard output; nil for standard error.
    public var events: Bytes?

    public init() {}

    /// Directories whose executables are trusted: package roots then system roots.
    public var trustedRoots: [Bytes] { packageRoots + systemRoots }

    /// Add a `--block` entry: a base name, an absolute path, or `sha256:HEX`.
    public mutating func addBlock(_ entry: Bytes) throws(ParseError) {
        let prefix = Bytes(literal: "sha256:")
        if entry.hasPrefix(prefix) {
            guard let digest = parseHex(Bytes(entry[prefix.count...])), digest.count == 32 else {
                throw ParseError(line: 0, "block entry `sha256:` needs 64 hexadecimal digits")
            }
            blockHashes.append(digest)
        } else if entry.first == 47 {
            blockPaths.append(Path.normalize(entry))
        } else if entry.isEmpty || entry.contains(47) {
            throw ParseError(line: 0, "block entry must be a base name, an absolute path or sha256:HEX")
        } else {
            blockNames.append(entry)
        }
    }

    /// Add an `--allow` entry (absolute path; a trailing `/` allows a whole directory).
    public mutating func addAllow(_ entry: Bytes) throws(ParseError) {
        guard entry.first == 47 else { throw ParseError(line: 0, "allow entry must be an absolute path") }
        var normalized = Path.normalize(entry)
        if entry.last == 47 && normalized != [47] { normalized.append(47) }
        allow.append(normalized)
    }
}
