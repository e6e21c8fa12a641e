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
    static let queueLimit = 1000

    /// Queue one event line (its trailing newline is dropped).
    mutating func enqueue(_ line: Bytes) {
        var l = line
        while l.last == 10 { l.removeLast() }
        guard !l.isEmpty else { return }
        if queue.count >= Self.queueLimit { queue.removeFirst(); dropped += 1 }
        queue.append(l)
    }

    /// Send everything queued in one POST. Failures keep the events for a later flush (with back-off)
    /// and are reported on `errors` (one JSON event line).
    mutating func flush(errors: EventSink) {
        guard !queue.isEmpty, ks_monotonic_ns() >= retryAt else { return }
        var body: Bytes = [91]
        for (i, e) in queue.enumerated() {
            if i > 0 { body.append(44) }
            body += e
        }
        body.append(93)
        let failure = post(body)
        if failure.isEmpty {
            queue.removeAll()
            backoffMs = 0
            retryAt = 0
            return
        }
        backoffMs = backoffMs == 0 ? 5_000 : min(backoffMs * 2, 300_000)
        retryAt = ks_monotonic_ns() + backoffMs * 1_000_000
        var w = errors.header(action: "error")
        w.string("reason", "events_undelivered")
        w.string("detail", Bytes(literal: "KITSUNE_EVENTS_URL ") + url.text + Bytes(literal: ": ") + failure)
        w.int("queued", queue.count)
        w.int("dropped", dropped)
        errors.lambdaFields(&w, requestID: nil)
        errors.emit(w)
    }

    /// One HTTP/1.1 POST; empty on a 2xx answer, else what went wrong.
    func post(_ body: Bytes) -> Bytes {
        guard let ip = resolveIPv4(url.host, timeoutMs: timeoutMs) else { return Bytes(literal: "cannot resolve ") + url.host }
        if url.tls { return postWithHelper(body, ip: ip) }
        let fd = ip.withUnsafeBufferPointer { ks_tcp_connect($0.baseAddress, Int32(url.port), Int32(timeoutMs)) }
        if fd < 0 { return Bytes(literal: "connect: ") + errorText(-fd) }
        defer { _ = ks_close(fd) }
        _ = ks_set_io_timeout(fd, Int32(timeoutMs))
        var request = Bytes(literal: "POST ") + url.path + Bytes(literal: " HTTP/1.1\r\nHost: ") + url.host
        if url.port != 80 { request += [58] + decimalBytes(url.port) }
        request += Bytes(literal: "\r\nUser-Agent: kitsune-enforcer/") + Bytes(literal: enforcerVersion)
        request += Bytes(literal: "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ") + decimalBytes(body.count)
        if let t = token { request += Bytes(literal: "\r\nAuthorization: Bearer ") + t }
        request += Bytes(literal: "\r\n\r\n") + body
        let w = request.withUnsafeBufferPointer { ks_write_all(fd, $0.baseAddress, $0.count) }
        if w < 0 { return Bytes(literal: "send: ") + errorText(-w) }
        var answer: Bytes = []
        var chunk = Bytes(repeating: 0, count: 1024)
        while !answer.contains(10) && answer.count < 4096 {
            let n = chunk.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return Bytes(literal: "receive: ") + errorText(Int32(-n)) }
            if n == 0 { break }
            answer += chunk[0..<Int(n)]
        }
        let status = HTTPHead(startLine: Bytes(answer.split(separator: 10)[0]).trimmed(), fields: [], raw: []).status
        guard let s = status else { return Bytes(literal: "no HTTP answer") }
        return (200..<300).contains(s) ? [] : Bytes(literal: "HTTP ") + decimalBytes(s)
    }
}

extension EventShipper {
    /// HTTPS: run `kitsune-ship` with the resolved address, the batch on its standard input. Its one
    /// line on standard error says what went wrong.
    func postWithHelper(_ body: Bytes, ip: Bytes) -> Bytes {
        guard let helper else { return Bytes(literal: "kitsune-ship (the HTTPS helper) is not installed next to kitsune-enforcer") }
        var args: [Bytes] = [helper, Bytes(literal: "--host"), url.host,
                             Bytes(literal: "--ip"), Bytes(ip.map { decimalBytes(Int($0)) }.joined(separator: [46])),
                             Bytes(literal: "--port"), decimalBytes(url.port), Bytes(literal: "--path"), url.path,
                             Bytes(literal: "--timeout-ms"), decimalBytes(timeoutMs)]
        if let ca = environment("KITSUNE_EVENTS_CA_FILE") { args += [Bytes(literal: "--ca-file"), ca] }
        var input: [Int32] = [0, 0]
        var errors: [Int32] = [0, 0]
        guard input.withUnsafeMutableBufferPointer({ ks_pipe($0.baseAddress) }) == 0 else { return Bytes(literal: "pipe failed") }
        guard errors.withUnsafeMutableBufferPointer({ ks_pipe($0.baseAddress) }) == 0 else {
            _ = ks_close(input[0]); _ = ks_close(input[1])
            return Bytes(literal: "pipe failed")
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
        if pid < 0 { _ = ks_close(input[1]); _ = ks_close(errors[0]); return Bytes(literal: "fork failed") }
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
            if message.count < 1024 { message += chunk[0..<Int(n)] }
        }
        _ = ks_close(errors[0])
        var status: Int32 = 0
        // Its pipe closes a moment before it becomes a zombie: wait for that, within the same bound.
        if !reapChild(pid, by: deadline, status: &status) {
            _ = ks_kill(pid, ks_sigkill())
            _ = ks_waitpid(pid, &status, 0)
            return Bytes(literal: "kitsune-ship timed out")
        }
        if ks_wifexited(status) != 0 && ks_wexitstatus(status) == 0 { return [] }
        let line = message.split(separator: 10).first { !$0.isEmpty } ?? Bytes(literal: "kitsune-ship failed")
        return line
    }
}

/// The directory of this executable (`/proc/self/exe`), for its sibling helpers.
func ownDirectory() -> Bytes? {
    guard let exe = readLink(Bytes(literal: "/proc/self/exe")), let slash = exe.lastIndex(of: 47) else { return nil }
    return Bytes(exe[..<slash])
}
