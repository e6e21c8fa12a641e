// The event stream: one JSON object per line (docs/events.md). Written with a single write() per
// event so lines from the supervisor never interleave with each other.
import CKitsuneSys

/// Lambda context of this sandbox, from the environment the platform gave the enforcer.
struct LambdaContext {
    var functionName: Bytes?
    var functionVersion: Bytes?
    var region: Bytes?

    static func current() -> LambdaContext {
        LambdaContext(functionName: environment("AWS_LAMBDA_FUNCTION_NAME"),
                      functionVersion: environment("AWS_LAMBDA_FUNCTION_VERSION"),
                      region: environment("AWS_REGION"))
    }
}

/// How the request id of the current invocation is learned.
enum RequestIDSource {
    /// Not at all (no Runtime API, or `KITSUNE_RUNTIME_RELAY=off`).
    case none
    /// The Runtime API relay (events are shipped before a response leaves).
    case relay
    /// INVOKE events of the Extensions API (``InvocationWatch``): nothing in the function's data path.
    case `extension`

    var name: StaticString {
        switch self {
        case .none: return "off"
        case .relay: return "relay"
        case .extension: return "extension"
        }
    }
}

/// Where events go.
struct EventSink {
    let fd: Int32
    let mode: Mode
    let lambda: LambdaContext
    /// A second copy of each line for the sidecar, which ships events to KITSUNE_EVENTS_URL (-1: none).
    var forward: Int32 = -1
    /// The page where the sidecar publishes the request id of the current invocation, if any.
    var invocation: SharedText?
    /// This run's instance id, event counter and account id (nil: events carry none of them).
    var instance: EventInstance?
    /// The sidecar's Extensions API connection, held (never read) by the supervisor: an INVOKE still
    /// unread there names the invocation about to be published (-1: none).
    var invocationSocket: Int32 = -1
    /// How request ids are learned (the `started` event's `request_ids`).
    var requestIDSource: RequestIDSource = .none

    /// Open the destination: nil/`stderr` → standard error, `-` → standard output, else a file (append).
    static func open(_ destination: Bytes?, mode: Mode) -> (EventSink?, Bytes) {
        let context = LambdaContext.current()
        guard let d = destination, d != Bytes(literal: "stderr") else { return (EventSink(fd: 2, mode: mode, lambda: context), []) }
        if d == [45] || d == Bytes(literal: "stdout") { return (EventSink(fd: 1, mode: mode, lambda: context), []) }
        let fd = withCPath(d) { ks_open($0, ks_o_wronly_append_create() | ks_o_cloexec(), 0o600) }
        if fd < 0 { return (nil, Bytes(literal: "cannot open events file ") + d + Bytes(literal: ": ") + errorText(-fd)) }
        return (EventSink(fd: fd, mode: mode, lambda: context), [])
    }

    /// Common fields of every event.
    func header(action: StaticString) -> JSONObjectWriter {
        var w = JSONObjectWriter()
        w.string("time", rfc3339(nanoseconds: ks_realtime_ns()))
        w.string("mode", mode.name)
        w.string("action", action)
        return w
    }

    /// Function name, version, region, and the request id (given, or the current invocation's).
    func lambdaFields(_ w: inout JSONObjectWriter, requestID: Bytes?) {
        if let v = lambda.functionName { w.string("function_name", v) }
        if let v = lambda.functionVersion { w.string("function_version", v) }
        if let v = lambda.region { w.string("region", v) }
        if requestID == nil && invocationSocket >= 0 {
            // Lambda hands out the INVOKE event with the runtime's: an event raised this early in an
            // invocation waits (at most 20 ms) for the sidecar to take it and publish the new id.
            _ = ks_await_drained(invocationSocket, 20)
        }
        if let v = requestID ?? invocation?.read(), !v.isEmpty { w.string("request_id", v) }
    }

    /// Write one event (with its instance id and sequence number); returns the line written.
    @discardableResult
    func emit(_ w: JSONObjectWriter, seq: Int? = nil) -> Bytes {
        let line = finalLine(w, seq: seq)
        writeAll(fd, line)
        // Non-blocking: a full pipe (the sidecar stuck shipping) drops the copy, never the decision.
        if forward >= 0 { line.withUnsafeBufferPointer { _ = ks_write(forward, $0.baseAddress, $0.count) } }
        return line
    }
}

/// A short text (at most 256 bytes) published by one process and read by others: a shared page
/// with a sequence lock (the sidecar writes the invocation's request id; supervisors read it).
struct SharedText {
    let page: UnsafeMutablePointer<UInt64>

    init?() {
        guard let p = ks_shared_words() else { return nil }
        page = UnsafeMutablePointer(mutating: UnsafePointer(p))
    }

    /// A text at `page` (34 words: sequence, length, 256 bytes) of an already shared page.
    init(page: UnsafeMutablePointer<UInt64>) { self.page = page }

    func write(_ text: Bytes) {
        text.withUnsafeBufferPointer { ks_shared_put(page, $0.baseAddress, $0.count) }
    }

    func read() -> Bytes {
        var buf = Bytes(repeating: 0, count: 256)
        let n = buf.withUnsafeMutableBufferPointer { ks_shared_get(page, $0.baseAddress, $0.count) }
        return Bytes(buf[0..<max(0, n)])
    }
}

/// Facts of one decision, for its event.
struct DecisionReport {
    var verdict: Verdict
    var executable: Bytes
    var argv: [Bytes]
    var syscall: StaticString
    var pid: Int
    var ppid: Int
    /// The processes above `pid`, nearest first (``ancestors(from:top:stop:)``).
    var ancestors: [Ancestor]
    var sha256: Bytes?
    var requestID: Bytes?
    /// `_X_AMZN_TRACE_ID` of the attempt's environment, when known.
    var traceID: Bytes?
}

extension EventSink {
    /// A `blocked` or `reported` event.
    func decision(_ r: DecisionReport) {
        var w = header(action: r.verdict.block ? "blocked" : "reported")
        let primary = r.verdict.violations[0]
        w.string("reason", primary.reason.name)
        w.strings("reasons", r.verdict.violations.map { $0.reason.name })
        w.string("executable", r.executable)
        if let subject = r.verdict.subject, subject.path != r.executable { w.string("target", subject.path) }
        if !primary.subject.isEmpty && primary.subject != r.executable && primary.subject != r.verdict.subject?.path {
            w.string("subject", primary.subject)
        }
        let (argv, cut) = boundedArgv(r.argv)
        w.strings("argv", argv)
        if cut { w.bool("argv_truncated", true) }
        if let h = r.sha256 { w.string("sha256", hexBytes(h)) }
        w.string("syscall", r.syscall)
        w.int("pid", r.pid)
        w.int("ppid", r.ppid)
        let chain = r.ancestors
        w.objects("ancestors", count: chain.count) { i, a in
            a.int("pid", chain[i].pid)
            a.string("executable", chain[i].executable)
            a.strings("argv", chain[i].argv)
            if chain[i].truncated { a.bool("argv_truncated", true) }
        }
        lambdaFields(&w, requestID: r.requestID)
        containerFields(&w, started: false)
        if let t = r.traceID, !t.isEmpty, t.count <= 256 { w.string("trace_id", t) }
        emit(w)
    }
}

/// The parent pid of `pid` from /proc/PID/stat (0 when unknown).
func parentPid(of pid: Int) -> Int {
    let (stat, _) = readFile(procPath(pid, "/stat"), limit: 4096)
    guard let s = stat, let close = s.lastIndex(of: 41) else { return 0 }   // after "(comm)"
    let fields = Bytes(s[(close + 1)...]).trimmed().split(separator: 32)
    return fields.count > 1 ? (fields[1].decimalValue() ?? 0) : 0
}
