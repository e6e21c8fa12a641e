// Ships events to KITSUNE_EVENTS_URL as JSON batches (an array of event objects per POST). In a
// Lambda sandbox the sidecar flushes at the invocation's edges (before the runtime's response or
// error leaves, and before it asks for the next event), so nothing waits for a thread that a frozen
// sandbox would never run; benign invocations, with nothing queued, send nothing.
import CKitsuneSys

/// A parsed `http[s]://host[:port][/path]` destination.
struct EventsURL {
    var host: Bytes
    var port: Int
    var path: Bytes
    var text: Bytes
    /// HTTPS: posted by the `kitsune-ship` helper (TLS is not linked into the enforcer).
    var tls = false

    /// Parse, or explain what is wrong.
    static func parse(_ text: Bytes) -> (EventsURL?, Bytes) {
        let lower = text.lowercasedASCII()
        let tls = lower.hasPrefix(Bytes(literal: "https://"))
        guard tls || lower.hasPrefix(Bytes(literal: "http://")) else { return (nil, Bytes(literal: "must start with http:// or https://")) }
        let rest = Bytes(text[(tls ? 8 : 7)...])
        let slash = rest.firstIndex(of: 47) ?? rest.count
        let authority = Bytes(rest[..<slash])
        let path = slash < rest.count ? Bytes(rest[slash...]) : [47]
        guard !authority.isEmpty, !authority.contains(64) else { return (nil, Bytes(literal: "needs a host (and no user:password@)")) }
        var host = authority
        var port = tls ? 443 : 80
        if let colon = authority.lastIndex(of: 58) {
            host = Bytes(authority[..<colon])
            guard let p = Bytes(authority[(colon + 1)...]).decimalValue(), p > 0, p < 65536 else {
                return (nil, Bytes(literal: "bad port"))
            }
            port = p
        }
        guard !host.isEmpty, host.allSatisfy({ $0 == 45 || $0 == 46 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
            return (nil, Bytes(literal: "bad host name (IPv4 addresses and DNS names only)"))
        }
        guard path.allSatisfy({ $0 > 32 && $0 < 127 }) else { return (nil, Bytes(literal: "bad path")) }
        return (EventsURL(host: host, port: port, path: path, text: text, tls: tls), [])
    }
}

/// The queue of events waiting to be shipped, and the HTTP client that ships them.
struct EventShipper {
    let url: EventsURL
    let token: Bytes?
    let timeoutMs: Int
    /// The HTTPS helper (`kitsune-ship` beside the enforcer), for https:// URLs.
    var helper: Bytes?
    var queue: [Bytes] = []
    var dropped = 0
    /// After a failed delivery, no new attempt before this monotonic time (back-off).
    var retryAt: Int64 = 0
    var backoffMs: Int64 = 0
    /// This run's instance id, for the `X-Kitsune-Batch` header (`<instance_id>-<first seq>`).
    var instanceID: Bytes?
    static let queueLimit = 1000

    /// Queue one event line (its trailing newline is dropped).
    mutating func enqueue(_ line: Bytes) {
        var l = line
        while l.last == 10 { l.removeLast() }
        guard !l.isEmpty else { return }
        if queue.count >= Self.queueLimit { queue.removeFirst(); dropped += 1 }
        queue.append(l)
    }

    /// Send everything queued in one POST. Failures keep the events for a later flush (with back-off,
    /// or after the collector's `Retry-After`) and are reported on `errors` (one JSON event line); a
    /// final 4xx drops the batch and reports `events_rejected`.
    mutating func flush(errors: EventSink) {
        guard !queue.isEmpty, ks_monotonic_ns() >= retryAt else { return }
        var body: Bytes = [91]
        for (i, e) in queue.enumerated() {
            if i > 0 { body.append(44) }
            body += e
        }
        body.append(93)
        var batch: Bytes?
        if let id = instanceID, let first = eventSeq(queue[0]) { batch = id + [45] + decimalBytes(first) }
        switch post(body, batch: batch) {
        case .delivered:
            queue.removeAll()
            backoffMs = 0
            retryAt = 0
        case .rejected(let answer):
            let count = queue.count
            queue.removeAll()
            backoffMs = 0
            retryAt = 0
            var w = errors.header(action: "error")
            w.string("reason", "events_rejected")
            w.int("status", answer.status)
            w.string("detail", answer.body)
            w.int("rejected", count)
            w.string("events_url", url.text)
            errors.lambdaFields(&w, requestID: nil)
            errors.emit(w)
        case .failed(let failure, let retryAfterMs):
            backoffMs = backoffMs == 0 ? 5_000 : min(backoffMs * 2, 300_000)
            retryAt = ks_monotonic_ns() + (retryAfterMs ?? backoffMs) * 1_000_000
            var w = errors.header(action: "error")
            w.string("reason", "events_undelivered")
            w.string("detail", Bytes(literal: "KITSUNE_EVENTS_URL ") + url.text + Bytes(literal: ": ") + failure)
            w.int("queued", queue.count)
            w.int("dropped", dropped)
            if let r = retryAfterMs { w.int("retry_after_ms", Int(r)) }
            errors.lambdaFields(&w, requestID: nil)
            errors.emit(w)
        }
    }

    /// One HTTP/1.1 POST of `body`, labelled `X-Kitsune-Batch: batch` when given.
    func post(_ body: Bytes, batch: Bytes?) -> Delivery {
        guard let ip = resolveIPv4(url.host, timeoutMs: timeoutMs) else {
            return .failed(Bytes(literal: "cannot resolve ") + url.host, retryAfterMs: nil)
        }
        if url.tls { return postWithHelper(body, ip: ip, batch: batch) }
        let fd = ip.withUnsafeBufferPointer { ks_tcp_connect($0.baseAddress, Int32(url.port), Int32(timeoutMs)) }
        if fd < 0 { return .failed(Bytes(literal: "connect: ") + errorText(-fd), retryAfterMs: nil) }
        defer { _ = ks_close(fd) }
        _ = ks_set_io_timeout(fd, Int32(timeoutMs))
        var request = Bytes(literal: "POST ") + url.path + Bytes(literal: " HTTP/1.1\r\nHost: ") + url.host
        if url.port != 80 { request += [58] + decimalBytes(url.port) }
        request += Bytes(literal: "\r\nUser-Agent: kitsune-enforcer/") + Bytes(literal: enforcerVersion)
        request += Bytes(literal: "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ") + decimalBytes(body.count)
        if let t = token { request += Bytes(literal: "\r\nAuthorization: Bearer ") + t }
        if let b = batch { request += Bytes(literal: "\r\nX-Kitsune-Batch: ") + b }
        request += Bytes(literal: "\r\n\r\n") + body
        let w = request.withUnsafeBufferPointer { ks_write_all(fd, $0.baseAddress, $0.count) }
        if w < 0 { return .failed(Bytes(literal: "send: ") + errorText(-w), retryAfterMs: nil) }
        // The head and the start of the body (for a rejection's detail), bounded.
        var answer: Bytes = []
        var chunk = Bytes(repeating: 0, count: 2048)
        while answer.count < 8192 {
            if HTTPAnswer.isComplete(answer) { break }
            let n = chunk.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if answer.isEmpty { return .failed(Bytes(literal: "receive: ") + errorText(Int32(-n)), retryAfterMs: nil) }
                break
            }
            if n == 0 { break }
            answer += chunk[0..<Int(n)]
        }
        return Delivery.of(HTTPAnswer.parse(answer))
    }
}

extension EventShipper {
    /// HTTPS: run `kitsune-ship` with the resolved address, the batch on its standard input. Its one
    /// line on standard error says what went wrong.
    func postWithHelper(_ body: Bytes, ip: Bytes, batch: Bytes?) -> Delivery {
        guard let helper else { return .failed(Bytes(literal: "kitsune-ship (the HTTPS helper) is not installed next to kitsune-enforcer"), retryAfterMs: nil) }
        var args: [Bytes] = [helper, Bytes(literal: "--host"), url.host,
                             Bytes(literal: "--ip"), Bytes(ip.map { decimalBytes(Int($0)) }.joined(separator: [46])),
                             Bytes(literal: "--port"), decimalBytes(url.port), Bytes(literal: "--path"), url.path,
                             Bytes(literal: "--timeout-ms"), decimalBytes(timeoutMs)]
        if let ca = environment("KITSUNE_EVENTS_CA_FILE") { args += [Bytes(literal: "--ca-file"), ca] }
        if let b = batch { args += [Bytes(literal: "--batch"), b] }
        var input: [Int32] = [0, 0]
        var errors: [Int32] = [0, 0]
        let pipeFailed = Delivery.failed(Bytes(literal: "pipe failed"), retryAfterMs: nil)
        guard input.withUnsafeMutableBufferPointer({ ks_pipe($0.baseAddress) }) == 0 else { return pipeFailed }
        guard errors.withUnsafeMutableBufferPointer({ ks_pipe($0.baseAddress) }) == 0 else {
            _ = ks_close(input[0]); _ = ks_close(input[1])
            return pipeFailed
        }
        let argv = cStringArray(args)
        defer { freeCStringArray(argv, count: args.count) }
        let pid = ks_fork()
        if pid == 0 {
            _ = ks_dup2(input[0], 0)
            _ = ks_dup2(errors[1], 1)
            _ = ks_dup2(errors[1], 2)
            _ = ks_restore_sigmask()
            _ = withCPath(helper) { ks_execve($0, argv, ks_envp()) }
            writeAll(2, Bytes(literal: "cannot run ") + helper + [10])
            ks_exit(127)
        }
        _ = ks_close(input[0])
        _ = ks_close(errors[1])
        if pid < 0 { _ = ks_close(input[1]); _ = ks_close(errors[0]); return .failed(Bytes(literal: "fork failed"), retryAfterMs: nil) }
        writeAll(input[1], body)
        _ = ks_close(input[1])
        // Its answer, bounded in time: the helper bounds itself, this bounds the helper.
        var message: Bytes = []
        let deadline = ks_monotonic_ns() + Int64(timeoutMs + 1000) * 1_000_000
        var chunk = Bytes(repeating: 0, count: 512)
        while ks_monotonic_ns() < deadline {
            var fds: [Int32] = [errors[0]]
            var rev: [Int16] = [0]
            let left = Int32(max(1, (deadline - ks_monotonic_ns()) / 1_000_000))
            if fds.withUnsafeMutableBufferPointer({ f in rev.withUnsafeMutableBufferPointer { ks_poll(f.baseAddress, 1, $0.baseAddress, left) } }) <= 0 { continue }
            let n = chunk.withUnsafeMutableBufferPointer { ks_read(errors[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            if message.count < 8192 { message += chunk[0..<Int(n)] }
        }
        _ = ks_close(errors[0])
        var status: Int32 = 0
        // Its pipe closes a moment before it becomes a zombie: wait for that, within the same bound.
        if !reapChild(pid, by: deadline, status: &status) {
            _ = ks_kill(pid, ks_sigkill())
            _ = ks_waitpid(pid, &status, 0)
            return .failed(Bytes(literal: "kitsune-ship timed out"), retryAfterMs: nil)
        }
        if ks_wifexited(status) != 0 && ks_wexitstatus(status) == 0 { return .delivered }
        // Exit 3: the collector's non-2xx answer (head and the start of its body) is the output.
        if ks_wifexited(status) != 0 && ks_wexitstatus(status) == 3, let answer = HTTPAnswer.parse(message) { return Delivery.of(answer) }
        let line = message.split(separator: 10).first { !$0.isEmpty } ?? Bytes(literal: "kitsune-ship failed")
        return .failed(Bytes(line), retryAfterMs: nil)
    }
}

/// The directory of this executable (`/proc/self/exe`), for its sibling helpers.
/// `kitsune-ship` beside this binary, or in `bin/` beside it when this binary is the layer's `wrapper`
/// (a copy of the enforcer at /opt/kitsune/wrapper; the helper is /opt/kitsune/bin/kitsune-ship).
func shipHelperPath() -> Bytes {
    let dir = ownDirectory() ?? []
    let exe = readLink(Bytes(literal: "/proc/self/exe")) ?? []
    if exe.hasSuffix(Bytes(literal: "/wrapper")) { return dir + Bytes(literal: "/bin/kitsune-ship") }
    return dir + Bytes(literal: "/kitsune-ship")
}

func ownDirectory() -> Bytes? {
    guard let exe = readLink(Bytes(literal: "/proc/self/exe")), let slash = exe.lastIndex(of: 47) else { return nil }
    return Bytes(exe[..<slash])
}
