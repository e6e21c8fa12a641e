// Follows one direction of an HTTP/1.1 connection as bytes stream through a relay: finds where each
// message's head ends and how long its body is (Content-Length or chunked), without buffering
// bodies. The enforcer's Runtime API relay uses it to read the request id of each invocation and to
// act before a response leaves, while passing every byte on unchanged.

/// A message head: the start line and the header fields, as received.
public struct HTTPHead {
    /// `GET /path HTTP/1.1` or `HTTP/1.1 200 OK`.
    public var startLine: Bytes
    /// Header fields, names as sent.
    public var fields: [(name: Bytes, value: Bytes)]
    /// The raw bytes of the head, CRLFCRLF included (forwarded unchanged).
    public var raw: Bytes

    /// The first value of a header field (names compared case-insensitively).
    public func field(_ name: StaticString) -> Bytes? {
        let want = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        for f in fields where f.name.count == want.count {
            var same = true
            for (i, c) in f.name.enumerated() where (c >= 65 && c <= 90 ? c + 32 : c) != (want[i] >= 65 && want[i] <= 90 ? want[i] + 32 : want[i]) {
                same = false
                break
            }
            if same { return f.value }
        }
        return nil
    }

    /// The request method and target (`POST`, `/2018-06-01/...`), for a request head.
    public var requestLine: (method: Bytes, target: Bytes)? {
        let parts = startLine.split(separator: 32)
        guard parts.count == 3, parts[2].hasPrefix(Bytes(literal: "HTTP/")) else { return nil }
        return (parts[0], parts[1])
    }

    /// The status code, for a response head.
    public var status: Int? {
        let parts = startLine.split(separator: 32)
        guard parts.count >= 2, parts[0].hasPrefix(Bytes(literal: "HTTP/")) else { return nil }
        return parts[1].decimalValue()
    }
}

/// What the framer found in a chunk of input, in order.
public enum HTTPPiece {
    /// A complete message head (its raw bytes are in the head).
    case head(HTTPHead)
    /// Body or opaque bytes: `input[range]` of the chunk just fed.
    case bytes(Range<Int>)

    /// How many bytes of input the piece stands for.
    public var length: Int {
        switch self {
        case .head(let h): return h.raw.count
        case .bytes(let r): return r.count
        }
    }
}

/// Incremental framing of the messages of one direction of a connection.
public struct HTTPFramer {
    /// Requests have no body unless they say so; responses without a length run until the connection closes.
    public enum Direction { case requests, responses }

    enum State: Equatable {
        case head
        case fixed(Int)
        case chunkSize
        case chunkData(Int)
        case chunkEnd(Int)       // CR LF still expected after chunk data (count left)
        case trailer
        /// Framing unknown (until close, or a head too large or malformed): pass everything through.
        case opaque
    }

    public let direction: Direction
    var state: State = .head
    var line: Bytes = []
    var headBuffer: Bytes = []
    /// Heads larger than this are not parsed: the rest of the connection is passed through as is.
    public static let headLimit = 64 * 1024

    public init(direction: Direction) { self.direction = direction }

    /// Whether the framer gave up on framing (everything from now on is passed through as bytes).
    public var isOpaque: Bool { state == .opaque }

    /// Whether the start of a head is held back, waiting for its end. When it is not, before and
    /// after a `feed`, the pieces of that feed are exactly its input, in order.
    public var holdsPartialHead: Bool { !headBuffer.isEmpty }

    /// Split `input` into heads and pass-through byte ranges.
    public mutating func feed(_ input: Bytes) -> [HTTPPiece] {
        var out: [HTTPPiece] = []
        var i = 0
        var passStart = 0
        func flushPass(_ upTo: Int) {
            if upTo > passStart { out.append(.bytes(passStart..<upTo)) }
        }
        while i < input.count {
            switch state {
            case .opaque:
                i = input.count
            case .head:
                flushPass(i)
                // Copy up to the end of the head (CR LF CR LF) or of the input, whichever comes first.
                var end = -1
                var j = i
                while j < input.count {
                    if input[j] == 10 && Self.endsHead(headBuffer, input, i, j) { end = j; break }
                    j += 1
                }
                let last = end >= 0 ? end : input.count - 1
                headBuffer.append(contentsOf: input[i...last])
                i = last + 1
                passStart = i
                if end >= 0 {
                    let raw = headBuffer
                    headBuffer = []
                    if raw.count == 2 {
                        // A stray empty line between messages (allowed before a request): keep it.
                        out.append(.head(HTTPHead(startLine: [], fields: [], raw: raw)))
                        continue
                    }
                    guard raw.count <= Self.headLimit, let head = Self.parseHead(raw) else {
                        // Malformed or huge: its bytes still go through unchanged, and so does everything after.
                        out.append(.head(HTTPHead(startLine: [], fields: [], raw: raw)))
                        state = .opaque
                        continue
                    }
                    out.append(.head(head))
                    state = bodyState(for: head)
                } else if headBuffer.count > Self.headLimit {
                    out.append(.head(HTTPHead(startLine: [], fields: [], raw: headBuffer)))
                    headBuffer = []
                    state = .opaque
                }
            case .fixed(let left):
                let take = min(left, input.count - i)
                i += take
                state = left - take == 0 ? .head : .fixed(left - take)
            case .chunkSize:
                let b = input[i]
                i += 1
                if b == 10 {
                    guard let size = Self.chunkSize(line) else { state = .opaque; line = []; continue }
                    line = []
                    state = size == 0 ? .trailer : .chunkData(size)
                } else {
                    line.append(b)
                    if line.count > 1024 { state = .opaque; line = [] }
                }
            case .chunkData(let left):
                let take = min(left, input.count - i)
                i += take
                state = left - take == 0 ? .chunkEnd(2) : .chunkData(left - take)
            case .chunkEnd(let left):
                i += 1
                state = left == 1 ? .chunkSize : .chunkEnd(left - 1)
            case .trailer:
                let b = input[i]
                i += 1
                if b == 10 {
                    let empty = line.isEmpty || line == [13]
                    line = []
                    if empty { state = .head }
                } else {
                    line.append(b)
                    if line.count > 8192 { state = .opaque; line = [] }
                }
            }
        }
        flushPass(i)
        return out.filter { if case .bytes(let r) = $0 { return !r.isEmpty } else { return true } }
    }

    func bodyState(for head: HTTPHead) -> State {
        if let te = head.field("Transfer-Encoding"), te.lowercasedASCII().contains(bytes: Bytes(literal: "chunked")) {
            return .chunkSize
        }
        if let cl = head.field("Content-Length") {
            guard let n = cl.trimmed().decimalValue(), n >= 0 else { return .opaque }
            return n == 0 ? .head : .fixed(n)
        }
        switch direction {
        case .requests: return .head
        case .responses:
            // 1xx, 204 and 304 never have a body; any other response without a length runs until close.
            if let s = head.status, (100..<200).contains(s) || s == 204 || s == 304 { return .head }
            return .opaque
        }
    }

    /// Whether the LF at `input[j]` ends a head: the bytes before it (in the buffer, then the input
    /// from `start`) are CR LF CR, or (a head that is just an empty line) a lone CR.
    static func endsHead(_ buffer: Bytes, _ input: Bytes, _ start: Int, _ j: Int) -> Bool {
        func byte(_ back: Int) -> UInt8? {          // the byte `back` positions before input[j]
            let k = j - back
            if k >= start { return input[k] }
            let b = buffer.count - (start - k)
            return b >= 0 ? buffer[b] : nil
        }
        guard byte(1) == 13 else { return false }
        if byte(2) == nil { return true }           // "\r\n" alone: an empty line
        return byte(2) == 10 && byte(3) == 13
    }

    static func parseHead(_ raw: Bytes) -> HTTPHead? {
        var lines = raw.split(separator: 10).map { $0.last == 13 ? Bytes($0.dropLast()) : $0 }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let start = lines.first, !start.isEmpty else { return nil }
        var fields: [(name: Bytes, value: Bytes)] = []
        for l in lines.dropFirst() {
            guard let colon = l.firstIndex(of: 58), colon > 0 else { return nil }
            fields.append((Bytes(l[..<colon]), Bytes(l[(colon + 1)...]).trimmed()))
        }
        return HTTPHead(startLine: start, fields: fields, raw: raw)
    }

    static func chunkSize(_ line: Bytes) -> Int? {
        var text = line
        if text.last == 13 { text.removeLast() }
        if let semi = text.firstIndex(of: 59) { text = Bytes(text[..<semi]) }
        text = text.trimmed()
        guard !text.isEmpty, text.count <= 15 else { return nil }
        var n = 0
        for c in text {
            let d: Int
            switch c {
            case 48...57: d = Int(c) - 48
            case 97...102: d = Int(c) - 87
            case 65...70: d = Int(c) - 55
            default: return nil
            }
            n = n * 16 + d
        }
        return n
    }
}
