// Ships events to KITSUNE_EVENTS_URL as JSON batches (an array of event objects per POST). In a
// Lambda sandbox the sidecar flushes at the invocation's edges (before the runtime's response or
// error leaves, and before it asks for the next event), so nothing waits for a thread that a frozen
// sandbox would never run; benign invocations, with nothing queued, send nothing.
import CKitsuneSys

/// A parsed `http://host[:port][/path]` destination.
struct EventsURL {
    var host: Bytes
    var port: Int
    var path: Bytes
    var text: Bytes

    /// Parse, or explain what is wrong (`https://` is refused: the static enforcer has no TLS).
    static func parse(_ text: Bytes) -> (EventsURL?, Bytes) {
        let http = Bytes(literal: "http://")
        if text.lowercasedASCII().hasPrefix(Bytes(literal: "https://")) {
            return (nil, Bytes(literal: "https is not supported by the static enforcer (no TLS library in it); send to an http:// collector in the function's VPC"))
        }
        guard text.lowercasedASCII().hasPrefix(http) else { return (nil, Bytes(literal: "must start with http://")) }
        let rest = Bytes(text[http.count...])
        let slash = rest.firstIndex(of: 47) ?? rest.count
        let authority = Bytes(rest[..<slash])
        let path = slash < rest.count ? Bytes(rest[slash...]) : [47]
        guard !authority.isEmpty, !authority.contains(64) else { return (nil, Bytes(literal: "needs a host (and no user:password@)")) }
        var host = authority
        var port = 80
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
        return (EventsURL(host: host, port: port, path: path, text: text), [])
    }
}

/// The queue of events waiting to be shipped, and the HTTP client that ships them.
struct EventShipper {
    let url: EventsURL
    let token: Bytes?
    let timeoutMs: Int
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
