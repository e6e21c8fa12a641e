// Request ids without a relay in the function's data path. When no events are shipped (no
// KITSUNE_EVENTS_URL: nothing has to be held back until a batch is delivered), the sidecar registers
// with the Lambda Extensions API as an internal extension subscribed to INVOKE, before the command
// starts, and learns each invocation's request id from its INVOKE event, which Lambda delivers
// alongside the runtime's own. The runtime talks to the Runtime API directly: a benign invocation's
// bytes cross no other process, and the sidecar's one wake-up per invocation runs beside the function
// instead of in front of it.
import CKitsuneSys

/// The sidecar's Extensions API connection: registered, and waiting on `GET …/event/next`.
struct InvocationWatch {
    let fd: Int32
    /// `Lambda-Extension-Identifier` given at registration.
    let identifier: Bytes
    /// `HOST:PORT` of the API, for the `Host` field.
    let host: Bytes
    /// Bytes of an answer not complete yet.
    var received: Bytes = []
    var buffer = readBuffer(16384)
    /// The account id has been learned (it is taken from the first invocation only).
    var accountKnown = false

    /// The name the enforcer registers under (internal extensions choose theirs).
    static let name = Bytes(literal: "kitsune-enforcer")
    /// A larger answer is not an event of this API: the watch gives up (request ids stop, nothing else).
    static let answerLimit = 1 << 20

    /// Register (blocking, bounded by `timeoutMs`). Nil when the API is unreachable or refuses:
    /// the caller then relays the Runtime API instead.
    static func register(ip: Bytes, port: Int, host: Bytes, timeoutMs: Int32) -> InvocationWatch? {
        let fd = ip.withUnsafeBufferPointer { ks_tcp_connect($0.baseAddress, Int32(port), timeoutMs) }
        if fd < 0 { return nil }
        _ = ks_set_io_timeout(fd, timeoutMs)
        let body = Bytes(literal: "{\"events\":[\"INVOKE\"]}")
        var request = Bytes(literal: "POST /2020-01-01/extension/register HTTP/1.1\r\nHost: ") + host
        request += Bytes(literal: "\r\nLambda-Extension-Name: ") + name
        request += Bytes(literal: "\r\nContent-Type: application/json\r\nContent-Length: ") + decimalBytes(body.count)
        request += Bytes(literal: "\r\n\r\n") + body
        var watch = InvocationWatch(fd: fd, identifier: [], host: host)
        guard request.withUnsafeBufferPointer({ ks_write_all(fd, $0.baseAddress, $0.count) }) == 0,
              let (status, head, _) = watch.readAnswer(), status == 200,
              let id = head.field("Lambda-Extension-Identifier"), !id.isEmpty, id.count <= 128,
              id.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            _ = ks_close(fd)
            return nil
        }
        watch = InvocationWatch(fd: fd, identifier: id, host: host)
        return watch
    }

    /// Ask for the next event. False when the connection is gone.
    func next() -> Bool {
        var request = Bytes(literal: "GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: ") + host
        request += Bytes(literal: "\r\nLambda-Extension-Identifier: ") + identifier + Bytes(literal: "\r\n\r\n")
        return request.withUnsafeBufferPointer { ks_write_all(fd, $0.baseAddress, $0.count) } == 0
    }

    /// Read what arrived (the poll said the connection is readable); each complete INVOKE publishes
    /// its request id (and the first one the account) through `signal`, and asks for the next event.
    /// False when the watch is finished: connection closed, an error answer, or something that is
    /// not an event.
    mutating func pump(_ signal: (RelaySignal) -> Void) -> Bool {
        let n = buffer.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return false }
        received += buffer[0..<Int(n)]
        while let (status, _, body) = takeAnswer() {
            guard status == 200, let event = try? JSONReader.parse(body) else { return false }
            guard Self.field(event, "eventType") == Bytes(literal: "INVOKE") else { return false }
            if let id = Self.field(event, "requestId"), !id.isEmpty, id.count <= 128,
               id.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 34 && $0 != 92 }) {
                signal(.invocation(id))
            }
            if !accountKnown, let arn = Self.field(event, "invokedFunctionArn"), let account = EventInstance.accountID(fromARN: arn) {
                accountKnown = true
                signal(.account(account))
            }
            if !next() { return false }
        }
        return received.count <= Self.answerLimit
    }

    func close() { _ = ks_close(fd) }

    /// One whole answer at the start of `received` (status, head, body), removed from it.
    mutating func takeAnswer() -> (Int, HTTPHead, Bytes)? {
        guard let end = HTTPAnswer.headEnd(received), let head = HTTPFramer.parseHead(Bytes(received[..<end])),
              let status = head.status else { return nil }
        let length = head.field("Content-Length")?.trimmed().decimalValue() ?? 0
        guard received.count - end >= length else { return nil }
        let body = Bytes(received[end..<(end + length)])
        received.removeFirst(end + length)
        return (status, head, body)
    }

    /// Read until one whole answer has arrived (registration only; the socket's timeouts bound it).
    mutating func readAnswer() -> (Int, HTTPHead, Bytes)? {
        while true {
            if let answer = takeAnswer() { return answer }
            if received.count > Self.answerLimit { return nil }
            let n = buffer.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            received += buffer[0..<Int(n)]
        }
    }

    /// A top-level string field of a JSON object.
    static func field(_ node: DataNode, _ key: StaticString) -> Bytes? {
        guard case .map(let entries, _) = node else { return nil }
        let name = Bytes(literal: key)
        for e in entries where e.key == name {
            if case .scalar(let v, _) = e.value { return v }
        }
        return nil
    }
}
