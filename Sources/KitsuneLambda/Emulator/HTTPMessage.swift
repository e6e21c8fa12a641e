import Foundation

/// One parsed HTTP/1.1 request.
struct HTTPRequest: Equatable {
    var method: String
    /// The path without the query string.
    var path: String
    /// Header names are lower-cased.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// Whether the connection stays open after the response.
    var keepAlive: Bool

    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first(where: { $0.name == lower })?.value
    }

    static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.path == b.path && a.body == b.body && a.keepAlive == b.keepAlive
            && a.headers.map { "\($0.name):\($0.value)" } == b.headers.map { "\($0.name):\($0.value)" }
    }
}

/// One HTTP response, serialized into a single buffer (one `send`, see NOTES: Nagle).
struct HTTPResponse {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []

    static func json(_ status: Int, _ object: [String: Any], headers: [(String, String)] = []) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: [UInt8](data))
    }

    static func error(_ status: Int, type: String, message: String) -> HTTPResponse {
        json(status, ["errorType": type, "errorMessage": message])
    }

    func serialized(keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        var out = [UInt8](head.utf8)
        out.reserveCapacity(out.count + body.count)
        out.append(contentsOf: body)
        return out
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 202: return "Accepted"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 411: return "Length Required"
        case 413: return "Payload Too Large"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }
}

/// Result of trying to parse a request from the start of a buffer.
enum HTTPParseOutcome: Equatable {
    /// Not enough bytes yet.
    case needMore
    /// A full request and how many bytes it used.
    case request(HTTPRequest, consumed: Int)
    /// The bytes are not acceptable; answer `status` and close the connection.
    case failure(status: Int, message: String)
}

/// Incremental HTTP/1.1 request parser with size limits (never trusts lengths in the input).
struct HTTPRequestParser {
    var maxHeaderBytes = 64 * 1024
    var maxBodyBytes: Int

    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    func parse(_ buf: [UInt8]) -> HTTPParseOutcome {
        guard let headerEnd = Self.find(Self.crlfcrlf, in: buf, limit: maxHeaderBytes + 4) else {
            return buf.count > maxHeaderBytes ? .failure(status: 431, message: "request header larger than \(maxHeaderBytes) bytes") : .needMore
        }
        guard let headText = String(bytes: buf[0..<headerEnd], encoding: .utf8) else {
            return .failure(status: 400, message: "request header is not UTF-8")
        }
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, !requestLine[0].isEmpty, requestLine[1].hasPrefix("/") else {
            return .failure(status: 400, message: "malformed request line")
        }
        let version = String(requestLine[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .failure(status: 505, message: "unsupported HTTP version \(version)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                return .failure(status: 400, message: "malformed header line")
            }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let target = String(requestLine[1])
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        let connection = headers.first(where: { $0.name == "connection" })?.value.lowercased()
        let keepAlive = version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
        var request = HTTPRequest(method: String(requestLine[0]), path: path, headers: headers, body: [], keepAlive: keepAlive)
        let bodyStart = headerEnd + 4

        if let te = request.header("transfer-encoding") {
            guard te.lowercased() == "chunked" else {
                return .failure(status: 501, message: "unsupported Transfer-Encoding \(te)")
            }
            switch decodeChunked(buf, from: bodyStart) {
            case .needMore: return .needMore
            case .failure(let status, let message): return .failure(status: status, message: message)
            case .done(let body, let end):
                request.body = body
                return .request(request, consumed: end)
            }
        }
        let length: Int
        if let cl = request.header("content-length") {
            guard let n = Int(cl), n >= 0 else { return .failure(status: 400, message: "invalid Content-Length '\(cl)'") }
            length = n
        } else {
            length = 0
        }
        if length > maxBodyBytes {
            return .failure(status: 413, message: "request body of \(length) bytes exceeds the limit of \(maxBodyBytes) bytes")
        }
        guard buf.count - bodyStart >= length else { return .needMore }
        request.body = Array(buf[bodyStart..<(bodyStart + length)])
        return .request(request, consumed: bodyStart + length)
    }

    private enum Chunked { case needMore, failure(Int, String), done([UInt8], Int) }

    private func decodeChunked(_ buf: [UInt8], from start: Int) -> Chunked {
        var pos = start
        var body: [UInt8] = []
        while true {
            guard let lineEnd = Self.find([13, 10], in: buf, from: pos, limit: pos + 1024) else {
                return buf.count - pos > 1024 ? .failure(400, "malformed chunk size line") : .needMore
            }
            let sizeText = String(decoding: buf[pos..<lineEnd], as: UTF8.self)
                .split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else { return .failure(400, "malformed chunk size '\(sizeText)'") }
            if body.count + size > maxBodyBytes {
                return .failure(413, "chunked request body exceeds the limit of \(maxBodyBytes) bytes")
            }
            pos = lineEnd + 2
            if size == 0 {
                // Trailers (ignored) end with an empty line.
                while true {
                    guard let end = Self.find([13, 10], in: buf, from: pos, limit: pos + 8192) else { return .needMore }
                    if end == pos { return .done(body, end + 2) }
                    pos = end + 2
                }
            }
            guard buf.count >= pos + size + 2 else { return .needMore }
            guard buf[pos + size] == 13, buf[pos + size + 1] == 10 else { return .failure(400, "chunk not terminated by CRLF") }
            body.append(contentsOf: buf[pos..<(pos + size)])
            pos += size + 2
        }
    }

    /// The path of the request line at the start of `buf`, if it is readable.
    static func requestPath(_ buf: [UInt8]) -> String? {
        guard let end = find([13, 10], in: buf, limit: 8192),
              let line = String(bytes: buf[0..<end], encoding: .utf8) else { return nil }
        let parts = line.split(separator: " ")
        guard parts.count == 3 else { return nil }
        return parts[1].split(separator: "?", maxSplits: 1).first.map(String.init)
    }

    static func find(_ needle: [UInt8], in buf: [UInt8], from: Int = 0, limit: Int) -> Int? {
        let end = min(buf.count, limit) - needle.count
        guard from <= end else { return nil }
        var i = from
        while i <= end {
            if buf[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where buf[i + j] != needle[j] { match = false; break }
                if match { return i }
            }
            i += 1
        }
        return nil
    }
}
