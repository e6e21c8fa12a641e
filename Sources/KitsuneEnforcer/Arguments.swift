// Command-line parsing of kitsune-enforcer (no Foundation, no ArgumentParser: this is the resident
// binary). Usage errors exit 2 and the command is never started unprotected.
import CKitsuneSys

/// Parsed command line.
struct Options {
    var policyFile: Bytes?
    var mode: Mode?
    var packages: [Bytes] = []
    var systems: [Bytes] = []
    var manifest: Bytes?
    var blocks: [Bytes] = []
    var allows: [Bytes] = []
    var events: Bytes?
    var interpreterScripts: ControlAction?
    var nativeCode: ControlAction?
    var probe = false
    var check = false
    var help = false
    var version = false
    /// argv index of the wrapped command.
    var commandIndex = -1
}

struct UsageError: Error {
    let message: Bytes
    init(_ m: Bytes) { message = m }
}

let usageText = """
usage: kitsune-enforcer [--policy FILE] [--mode enforce|audit|learn] [--package DIR]... [--system DIR]...
                        [--manifest FILE] [--block NAME|PATH|sha256:HEX]... [--allow PATH]...
                        [--events FILE|-] [--interpreter-scripts block|report|off]
                        [--native-code block|report|off] -- COMMAND [ARGS...]
       kitsune-enforcer --probe [OPTIONS]     what this kernel offers and what would be enforced
       kitsune-enforcer --check [OPTIONS]     validate the policy and print it as JSON
       kitsune-enforcer --version | --help

"""

/// Started as the Lambda layer's exec wrapper: `/opt/kitsune/wrapper` is a copy of this binary
/// (`AWS_LAMBDA_EXEC_WRAPPER` names it), so the runtime's command line comes as it is, with no
/// `/bin/sh` script in between. The policy is the layer's `policy.yaml` beside the binary when it
/// is itself named `wrapper` (`/opt/kitsune/wrapper` → `/opt/kitsune/policy.yaml`), else in the
/// parent of its directory (a link `wrapper` → `bin/kitsune-enforcer`): found from
/// `/proc/self/exe`, not from `argv[0]`, which the caller chooses.
func execWrapperOptions(_ argv: [Bytes], ownExecutable: () -> Bytes?) throws(UsageError) -> Options? {
    guard let program = argv.first else { return nil }
    let name = program.lastIndex(of: 47).map { Bytes(program[(program.index(after: $0))...]) } ?? program
    guard name == Bytes(literal: "wrapper") else { return nil }
    guard let exe = ownExecutable(), let slash = exe.lastIndex(of: 47) else {
        throw UsageError(Bytes(literal: "started as the layer's wrapper, but /proc/self/exe cannot be read to find its policy"))
    }
    // The link resolves to …/kitsune/bin/kitsune-enforcer: the policy is in the parent directory. A
    // copy of the binary named `wrapper` (an extraction that does not keep links) has it beside it.
    let base = Bytes(exe[..<slash])
    var root = base
    if Bytes(exe[(slash + 1)...]) != Bytes(literal: "wrapper") {
        guard let up = base.lastIndex(of: 47) else {
            throw UsageError(Bytes(literal: "started as the layer's wrapper from ") + exe + Bytes(literal: ": no parent directory to find its policy in"))
        }
        root = Bytes(base[..<up])
    }
    guard argv.count > 1 else {
        throw UsageError(Bytes(literal: "started as the layer's wrapper with no command: AWS_LAMBDA_EXEC_WRAPPER passes the runtime's command line"))
    }
    var o = Options()
    o.policyFile = root + Bytes(literal: "/policy.yaml")
    o.commandIndex = 1
    return o
}

/// Parse `argv` (index 0 is the program).
func parseArguments(_ argv: [Bytes]) throws(UsageError) -> Options {
    var o = Options()
    var i = 1
    while i < argv.count {
        var arg = argv[i]
        if arg == Bytes(literal: "--") { o.commandIndex = i + 1; break }
        guard arg.hasPrefix([45]) else { o.commandIndex = i; break }
        var inline: Bytes?
        if arg.hasPrefix([45, 45]), let eq = arg.firstIndex(of: 61) {
            inline = Bytes(arg[(eq + 1)...])
            arg = Bytes(arg[..<eq])
        }
        func value() throws(UsageError) -> Bytes {
            if let v = inline { return v }
            guard i + 1 < argv.count else { throw UsageError(arg + Bytes(literal: " needs a value")) }
            i += 1
            return argv[i]
        }
        switch arg {
        case Bytes(literal: "--policy"): o.policyFile = try value()
        case Bytes(literal: "--mode"):
            let v = try value()
            guard let m = Mode.named(v) else { throw UsageError(Bytes(literal: "--mode must be enforce, audit or learn, not ") + v) }
            o.mode = m
        case Bytes(literal: "--package"): o.packages.append(try value())
        case Bytes(literal: "--system"): o.systems.append(try value())
        case Bytes(literal: "--manifest"): o.manifest = try value()
        case Bytes(literal: "--block"): o.blocks.append(try value())
        case Bytes(literal: "--allow"): o.allows.append(try value())
        case Bytes(literal: "--events"): o.events = try value()
        case Bytes(literal: "--interpreter-scripts"): o.interpreterScripts = try action(arg, try value())
        case Bytes(literal: "--native-code"): o.nativeCode = try action(arg, try value())
        case Bytes(literal: "--probe"): o.probe = true
        case Bytes(literal: "--check"): o.check = true
        case Bytes(literal: "--help"), Bytes(literal: "-h"): o.help = true
        case Bytes(literal: "--version"): o.version = true
        default: throw UsageError(Bytes(literal: "unknown option ") + arg + Bytes(literal: " (see --help)"))
        }
        i += 1
    }
    if !o.probe && !o.check && !o.help && !o.version && (o.commandIndex < 0 || o.commandIndex >= argv.count) {
        throw UsageError(Bytes(literal: "no command given: kitsune-enforcer [OPTIONS] -- COMMAND [ARGS...]"))
    }
    return o
}

func action(_ flag: Bytes, _ v: Bytes) throws(UsageError) -> ControlAction {
    if v == Bytes(literal: "block") { return .block }
    if v == Bytes(literal: "report") { return .report }
    if v == Bytes(literal: "off") { return .off }
    throw UsageError(flag + Bytes(literal: " must be block, report or off, not ") + v)
}
