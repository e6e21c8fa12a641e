import Foundation
import Glibc
import Synchronization

/// A loopback HTTP receiver for alert deliveries: records every request and answers with the
/// status `answer` gives for the request's number (1-based); `hang` keeps a request unanswered
/// (to stand for a receiver that is slow while the sender dies).
final class AlertTestReceiver: @unchecked Sendable {
    struct Request: Sendable {
        var path: String
        var headers: [String: String]
        var body: Data
        /// When it arrived.
        var time: Date
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    let port: Int
    private let fd: Int32
    private let state = Mutex<(requests: [Request], answered: [Int], stopped: Bool)>(([], [], false))
    private let answer: @Sendable (Int) -> Int?

    var url: String { "http://127.0.0.1:\(port)/hook/secret-token-in-path?key=s3cr3t" }
    var requests: [Request] { state.withLock { $0.requests } }
    /// The statuses answered so far, in order.
    var answered: [Int] { state.withLock { $0.answered } }

    /// `answer(n)`: the status for request n; nil hangs it.
    init(answer: @escaping @Sendable (Int) -> Int? = { _ in 200 }) throws {
        self.answer = answer
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw TestFailure("receiver: bind/listen failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() {
        state.withLock { $0.stopped = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// Waits until `condition` holds on the requests, up to `seconds`.
    func wait(seconds: Double = 30, until condition: ([Request], [Int]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let (r, a) = state.withLock { ($0.requests, $0.answered) }
            if condition(r, a) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { if state.withLock({ $0.stopped }) { return }; continue }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            data.append(contentsOf: buffer[0..<n])
            headerEnd = data.range(of: Data("\r\n\r\n".utf8))
        }
        let head = String(decoding: data[..<headerEnd!.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = data[headerEnd!.upperBound...]
        while body.count < length {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { break }
            body.append(contentsOf: buffer[0..<n])
        }
        let path = head.first?.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let number = state.withLock { s -> Int in s.requests.append(Request(path: path, headers: headers, body: Data(body), time: Date())); return s.requests.count }
        guard let status = answer(number) else {
            while !state.withLock({ $0.stopped }) { Thread.sleep(forTimeInterval: 0.05) }
            return
        }
        let reply = "HTTP/1.1 \(status) X\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        _ = reply.withCString { write(client, $0, strlen($0)) }
        state.withLock { $0.answered.append(status) }
    }
}
