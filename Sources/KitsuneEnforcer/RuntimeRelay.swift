// The Lambda Runtime API relay: the runtime is given AWS_LAMBDA_RUNTIME_API=127.0.0.1:<ours>, and
// every connection it opens is paired with one to the real API. Bytes pass through unchanged; the
// relay only reads message heads, to learn each invocation's request id (for events) and to hold a
// response back until the events it caused are shipped. No extension, no INVOKE registration.
import CKitsuneSys

/// One runtime connection and its upstream twin.
struct RelayPair {
    let client: Int32
    let upstream: Int32
    var requests = HTTPFramer(direction: .requests)
    var responses = HTTPFramer(direction: .responses)
}

/// What the relay noticed while moving bytes.
enum RelaySignal {
    /// The runtime is about to end an invocation or the init phase (a response, an error, or the
    /// request for the next event): ship pending events before it leaves. `fresh`: the message's
    /// first byte was already waiting when the poll that led here looked at the connection (it
    /// begins the bytes read, and no head was carried over from an earlier read).
    case invocationEdge(fresh: Bool)
    /// A new invocation began: its request id.
    case invocation(Bytes)
    /// The function's account id (from the first invocation's `Lambda-Runtime-Invoked-Function-Arn`).
    case account(Bytes)
}

/// The loopback listener and the open connection pairs.
struct RuntimeRelay {
    let listener: Int32
    let upstreamIP: Bytes
    let upstreamPort: Int
    var pairs: [RelayPair] = []
    /// The read buffer, allocated by the first read (in the sidecar, after the fork; ``readBuffer(_:)``).
    var buffer: Bytes = []
    /// The account id has been learned (it is taken from the first invocation only).
    var accountKnown = false
    /// Connection pairs served at once (each takes two of the sidecar's poll slots).
    static let maxPairs = (Int(KS_POLL_MAX) - 4) / 2

    /// Parse `host:port` of AWS_LAMBDA_RUNTIME_API (IPv4 or localhost).
    static func upstream(_ address: Bytes) -> (Bytes, Int)? {
        guard let colon = address.lastIndex(of: 58), let port = Bytes(address[(colon + 1)...]).decimalValue(), port > 0, port < 65536 else { return nil }
        let host = Bytes(address[..<colon])
        if host.lowercasedASCII() == Bytes(literal: "localhost") { return ([127, 0, 0, 1], port) }
        guard let ip = parseIPv4(host) else { return nil }
        return (ip, port)
    }

    /// Accept a runtime connection and open its upstream twin (closed again if the API is unreachable,
    /// so the runtime sees the same failure it would have seen).
    mutating func accept() {
        let c = ks_tcp_accept(listener)
        if c < 0 { return }
        // Bounded: the runtime uses one or two connections; a flood (from code in the sandbox) is
        // refused rather than allowed to push the runtime's own connection out of the poll set.
        if pairs.count >= Self.maxPairs { _ = ks_close(c); return }
        let u = upstreamIP.withUnsafeBufferPointer { ks_tcp_connect($0.baseAddress, Int32(upstreamPort), 2000) }
        if u < 0 { _ = ks_close(c); return }
        pairs.append(RelayPair(client: c, upstream: u))
    }

    /// Move what the runtime sent upstream. Returns false when the pair is finished (closed).
    mutating func pumpRequests(_ i: Int, _ signal: (RelaySignal) -> Void) -> Bool {
        if buffer.isEmpty { buffer = readBuffer(65536) }
        let n = buffer.withUnsafeMutableBufferPointer { ks_read(pairs[i].client, $0.baseAddress, $0.count) }
        if n <= 0 { return false }
        let count = Int(n)
        let carried = pairs[i].requests.holdsPartialHead
        let pieces = pairs[i].requests.feed(Bytes(buffer[0..<count]))
        if !carried && !pairs[i].requests.holdsPartialHead {
            // The pieces are the bytes just read: send them from the read buffer, split only where an
            // invocation edge's head starts (what came before it goes first; then the events; then it).
            var position = 0, sent = 0
            for piece in pieces {
                if case .head(let head) = piece, let (method, target) = head.requestLine,
                   Self.isInvocationEdge(method: method, target: target) {
                    if !send(pairs[i].upstream, buffer, sent..<position) { return false }
                    sent = position
                    signal(.invocationEdge(fresh: position == 0))
                }
                position += piece.length
            }
            return send(pairs[i].upstream, buffer, sent..<count)
        }
        var out: Bytes = []
        for piece in pieces {
            switch piece {
            case .head(let head):
                if let (method, target) = head.requestLine, Self.isInvocationEdge(method: method, target: target) {
                    if !send(pairs[i].upstream, out) { return false }
                    out = []
                    signal(.invocationEdge(fresh: false))
                }
                out += head.raw
            case .bytes(let r):
                out += buffer[r]
            }
        }
        return send(pairs[i].upstream, out)
    }

    /// Move what the API answered back to the runtime. Returns false when the pair is finished.
    mutating func pumpResponses(_ i: Int, _ signal: (RelaySignal) -> Void) -> Bool {
        if buffer.isEmpty { buffer = readBuffer(65536) }
        let n = buffer.withUnsafeMutableBufferPointer { ks_read(pairs[i].upstream, $0.baseAddress, $0.count) }
        if n <= 0 { return false }
        let count = Int(n)
        let carried = pairs[i].responses.holdsPartialHead
        let pieces = pairs[i].responses.feed(Bytes(buffer[0..<count]))
        for piece in pieces {
            guard case .head(let head) = piece else { continue }
            if let id = head.field("Lambda-Runtime-Aws-Request-Id"), !id.isEmpty, id.count <= 128,
               id.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 34 && $0 != 92 }) {
                signal(.invocation(id))
            }
            if !accountKnown, let arn = head.field("Lambda-Runtime-Invoked-Function-Arn"),
               let account = EventInstance.accountID(fromARN: arn) {
                accountKnown = true
                signal(.account(account))
            }
        }
        // Heads and bodies of one read leave in one write (one segment, one wake-up of the runtime):
        // the bytes as read, unless a head straddles reads.
        if !carried && !pairs[i].responses.holdsPartialHead { return send(pairs[i].client, buffer, 0..<count) }
        var out: Bytes = []
        for piece in pieces {
            switch piece {
            case .head(let head): out += head.raw
            case .bytes(let r): out += buffer[r]
            }
        }
        return send(pairs[i].client, out)
    }

    mutating func close(_ i: Int) {
        _ = ks_close(pairs[i].client)
        _ = ks_close(pairs[i].upstream)
        pairs.remove(at: i)
    }

    /// `POST …/invocation/ID/response|error`, `POST …/init/error`, `GET …/invocation/next`.
    static func isInvocationEdge(method: Bytes, target: Bytes) -> Bool {
        let base = Bytes(literal: "/2018-06-01/runtime/")
        guard target.hasPrefix(base) else { return false }
        let path = target.firstIndex(of: 63).map { Bytes(target[..<$0]) } ?? target
        if method == Bytes(literal: "GET") { return path == base + Bytes(literal: "invocation/next") }
        guard method == Bytes(literal: "POST") else { return false }
        return path == base + Bytes(literal: "init/error")
            || (path.hasPrefix(base + Bytes(literal: "invocation/"))
                && (path.hasSuffix(Bytes(literal: "/response")) || path.hasSuffix(Bytes(literal: "/error"))))
    }

    func send(_ fd: Int32, _ data: Bytes, _ range: Range<Int>? = nil) -> Bool {
        let r = range ?? 0..<data.count
        if r.isEmpty { return true }
        return data.withUnsafeBufferPointer { ks_write_all(fd, $0.baseAddress! + r.lowerBound, r.count) } == 0
    }
}
