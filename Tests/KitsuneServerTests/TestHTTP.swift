import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 for the tests over a plain loopback socket, one connection per request (`Connection: close`).
///
/// Not URLSession: its Linux implementation (libcurl) keeps idle connections that a server's graceful
/// shutdown waits for, and it hides what the server actually sent (chunking, raw status lines).
enum TestHTTP {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    static func request(_ method: String, _ url: String, token: String? = nil, body: Data? = nil, contentType: String = "application/json",
                        headers: [String: String] = [:]) async throws -> (status: Int, headers: [String: String], body: Data) {
        var fields = headers
        if let token { fields["Authorization"] = "Bearer " + token }
        if body != nil { fields["Content-Type"] = contentType }
        let r = try await exchange(method: method, url: url, headers: fields, body: body)
        return (r.status, r.headers, r.body)
    }

    /// Runs the blocking exchange on its own thread so the cooperative pool stays free for the server.
    static func exchange(method: String, url: String, headers: [String: String], body: Data?, timeout: Int = 30) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingExchange(method: method, url: url, headers: headers, body: body, timeout: timeout) })
            }
        }
    }

    static func blockingExchange(method: String, url: String, headers: [String: String], body: Data?, timeout: Int) throws -> Response {
        // The target is sent exactly as written (hostile-parameter tests send malformed escapes).
        guard url.hasPrefix("http://"), let slash = url.dropFirst(7).firstIndex(of: "/") ?? Optional(url.endIndex) else {
            throw TestFailure("TestHTTP takes http://HOST:PORT/… URLs, not \(url)")
        }
        let authority = url[url.index(url.startIndex, offsetBy: 7)..<slash]
        let target = slash == url.endIndex ? "/" : String(url[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else {
            throw TestFailure("TestHTTP needs an explicit port: \(url)")
        }
        let host = String(authority[..<colon])
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" } else if method == "POST" || method == "PUT" { head += "Content-Length: 0\r\n" }
        head += "\r\n"
        var raw = Data(head.utf8)
        if let body { raw.append(body) }
        let reply = try roundTrip(host: host, port: port, send: raw, timeout: timeout)
        return try parse(reply)
    }

    /// Sends `send` on a new connection and reads until the server closes it.
    static func roundTrip(host: String, port: Int, send: Data, timeout: Int) throws -> Data {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else { throw TestFailure("not an IPv4 address: \(host)") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect to \(host):\(port): errno \(errno)") }
        try send.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    // The server may answer (413, 400) and close before the whole body is sent: read what it said.
                    if errno == EPIPE || errno == ECONNRESET { return }
                    throw TestFailure("send: errno \(errno)")
                }
                offset += n
            }
        }
        var reply = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET, !reply.isEmpty { break }
                throw TestFailure("recv from \(host):\(port): errno \(errno) after \(reply.count) bytes")
            }
            reply.append(contentsOf: chunk[0..<n])
        }
        return reply
    }

    /// Status line, headers (lower-cased names) and the body, de-chunked.
    static func parse(_ reply: Data) throws -> Response {
        let separator = Data("\r\n\r\n".utf8)
        guard let end = reply.range(of: separator) else { throw TestFailure("no HTTP header in a \(reply.count)-byte reply") }
        let head = String(decoding: reply[reply.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line: \(head.prefix(80))") }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        var body = Data(reply[end.upperBound...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true { body = try dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: Data) throws -> Data {
        var out = Data()
        var index = data.startIndex
        let crlf = Data("\r\n".utf8)
        while index < data.endIndex {
            guard let lineEnd = data.range(of: crlf, in: index..<data.endIndex) else { throw TestFailure("truncated chunk size") }
            let sizeText = String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw TestFailure("bad chunk size \(sizeText)") }
            index = lineEnd.upperBound
            if size == 0 { break }
            guard data.distance(from: index, to: data.endIndex) >= size else { throw TestFailure("truncated chunk") }
            out.append(data[index..<data.index(index, offsetBy: size)])
            index = data.index(index, offsetBy: size + 2)
        }
        return out
    }
}
