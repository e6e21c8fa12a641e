// The processes above an event's process (`ancestors`, docs/events.md): who started the attempt,
// up to the wrapped command. Read from /proc only when an event is written, never while an exec is
// being decided; what is read is what `ps` would show (a process may rewrite its own command line).
import CKitsuneSys

/// Bounds on what an event shows of a command line (the judge always sees all of it).
enum EventBounds {
    static let argvEntries = 256
    static let argvBytes = 64 * 1024
    /// Most entries of `ancestors`.
    static let ancestors = 8
}

/// `argv` cut to 256 entries and 64 KiB in all (the last kept entry cut short when it crosses the
/// limit); whether anything was cut.
func boundedArgv(_ argv: [Bytes]) -> (argv: [Bytes], truncated: Bool) {
    var out: [Bytes] = []
    var total = 0
    for a in argv {
        if out.count == EventBounds.argvEntries { return (out, true) }
        if total + a.count > EventBounds.argvBytes {
            let room = EventBounds.argvBytes - total
            if room > 0 { out.append(Bytes(a[0..<room])) }
            return (out, true)
        }
        out.append(a)
        total += a.count
    }
    return (out, false)
}

/// One process above the event's.
struct Ancestor {
    let pid: Int
    /// `/proc/PID/exe`, or `unknown` (a process that made itself non-dumpable, or is exiting).
    let executable: Bytes
    let argv: [Bytes]
    let truncated: Bool
}

/// The chain from `parent` upwards, nearest first: each process up to and including `top` (the
/// wrapped command — the runtime in Lambda), never `stop` (the enforcer, parent of the command and
/// of the orphans it reaps) nor pid 1; at most ``EventBounds/ancestors`` entries.
func ancestors(from parent: Int, top: Int, stop: Int) -> [Ancestor] {
    var out: [Ancestor] = []
    var p = parent
    while p > 1 && p != stop && out.count < EventBounds.ancestors {
        let (argv, truncated) = boundedArgv(commandLine(of: p))
        out.append(Ancestor(pid: p, executable: readLink(procPath(p, "/exe")) ?? Bytes(literal: "unknown"),
                            argv: argv, truncated: truncated))
        if p == top { break }
        p = parentPid(of: p)
    }
    return out
}

/// The arguments in `/proc/PID/cmdline`, read no further than the event bounds need (empty when
/// the process is gone).
func commandLine(of pid: Int) -> [Bytes] {
    let fd = withCPath(procPath(pid, "/cmdline")) { ks_open($0, ks_o_rdonly() | ks_o_cloexec(), 0) }
    if fd < 0 { return [] }
    defer { _ = ks_close(fd) }
    // One byte more than 64 KiB of text and 256 separators: anything longer is cut anyway. Read a
    // page at a time (most command lines fit in one: the supervisor's memory stays small).
    let bound = EventBounds.argvBytes + EventBounds.argvEntries + 1
    var text: Bytes = []
    var page = Bytes(repeating: 0, count: 4096)
    while text.count < bound {
        let want = min(page.count, bound - text.count)
        let n = page.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, want) }
        if n <= 0 { break }
        text += page[0..<Int(n)]
    }
    guard let last = text.last else { return [] }
    var args = text.split(separator: 0)
    if last == 0 { args.removeLast() }      // the terminator of the last argument
    return args
}
