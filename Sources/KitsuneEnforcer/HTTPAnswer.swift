// What a collector answered to a batch, and what the shipper does about it (docs/events.md):
// 2xx delivered; 400/401/403/404/413/422 (and any other 4xx but 408/429) final, the batch dropped;
// 408, 429, 5xx and anything else retried, after `Retry-After: SECONDS` when given.

/// The parts of an HTTP answer the shipper acts on.
struct HTTPAnswer {
    var status: Int
    /// `Retry-After` in seconds (the delay form only; an HTTP date is ignored).
    var retryAfterSeconds: Int?
    /// The first bytes of the body (at most ``bodyShown``), de-chunked when chunked.
    var body: Bytes

    /// How much of a body is kept for the `events_rejected` event.
    static let bodyShown = 200

    /// Parse the start of an answer (head, then possibly part of the body). 1xx heads are skipped.
    static func parse(_ raw: Bytes) -> HTTPAnswer? {
        var rest = raw
        while true {
            guard let end = headEnd(rest) else {
                // Only the status line arrived (or part of the head): still a status.
                let line = Bytes(rest.split(separator: 10, omittingEmptySubsequences: false).first ?? []).trimmed()
                guard let s = HTTPHead(startLine: line, fields: [], raw: []).status, s >= 200 else { return nil }
                return HTTPAnswer(status: s, retryAfterSeconds: nil, body: [])
            }
            guard let head = HTTPFramer.parseHead(Bytes(rest[..<end])), let status = head.status else { return nil }
            rest = Bytes(rest[end...])
            if status < 200 { continue }
            var body = rest
            if let te = head.field("Transfer-Encoding"), te.lowercasedASCII().hasSuffix(Bytes(literal: "chunked")) {
                body = dechunk(rest)
            } else if let cl = head.field("Content-Length")?.trimmed().decimalValue(), cl < body.count {
                body = Bytes(body[..<cl])
            }
            if body.count > bodyShown { body = Bytes(body[..<bodyShown]) }
            var retry: Int?
            if let v = head.field("Retry-After")?.trimmed(), !v.isEmpty, v.count <= 9, v.allSatisfy({ (48...57).contains($0) }) {
                retry = v.decimalValue()
            }
            return HTTPAnswer(status: status, retryAfterSeconds: retry, body: body)
        }
    }

    /// Enough of an answer has arrived to act on it: a 2xx status line (delivered, the rest does not
    /// matter), or a whole head with its body or the part of it that is shown.
    static func isComplete(_ raw: Bytes) -> Bool {
        guard let nl = raw.firstIndex(of: 10) else { return false }
        let line = Bytes(raw[..<nl]).trimmed()
        if let s = HTTPHead(startLine: line, fields: [], raw: []).status, (200..<300).contains(s) { return true }
        guard let end = headEnd(raw), let head = HTTPFramer.parseHead(Bytes(raw[..<end])), let s = head.status, s >= 200 else { return false }
        let have = raw.count - end
        if have >= bodyShown { return true }
        if let cl = head.field("Content-Length")?.trimmed().decimalValue() { return have >= cl }
        return false
    }

    /// Index just past the head's blank line, if complete.
    static func headEnd(_ b: Bytes) -> Int? {
        var i = 0
        while i + 1 < b.count {
            if b[i] == 10 && b[i + 1] == 10 { return i + 2 }
            if i + 3 < b.count && b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
            i += 1
        }
        return nil
    }

    /// The data of the complete or partial chunks at the start of `b`.
    static func dechunk(_ b: Bytes) -> Bytes {
        var out: Bytes = []
        var i = 0
        while i < b.count && out.count < bodyShown {
            guard let nl = b[i...].firstIndex(of: 10) else { break }
            let sizeText = Bytes(b[i..<nl]).split(separator: 59).first.map { Bytes($0).trimmed() } ?? []
            guard sizeText.count <= 8, let size = parseHex(sizeText.count % 2 == 1 ? [48] + sizeText : sizeText)?.reduce(0, { $0 << 8 | Int($1) }),
                  size > 0 else { break }
            let start = nl + 1
            let end = min(b.count, start + size)
            out += b[start..<end]
            i = end + 2
        }
        return out
    }

    /// Final: the collector will not take this batch however often it is sent.
    var isFinal: Bool { (400..<500).contains(status) && status != 408 && status != 429 }
    var isDelivered: Bool { (200..<300).contains(status) }
}

/// The outcome of one POST.
enum Delivery {
    case delivered
    /// A final 4xx: drop the batch.
    case rejected(HTTPAnswer)
    /// Not delivered (network, timeout, 408/429/5xx): retry later, after `retryAfterMs` when the
    /// collector said so.
    case failed(Bytes, retryAfterMs: Int64?)

    /// The outcome for a parsed answer (nil: no HTTP answer).
    static func of(_ answer: HTTPAnswer?) -> Delivery {
        guard let a = answer else { return .failed(Bytes(literal: "no HTTP answer"), retryAfterMs: nil) }
        if a.isDelivered { return .delivered }
        if a.isFinal { return .rejected(a) }
        return .failed(Bytes(literal: "HTTP ") + decimalBytes(a.status),
                       retryAfterMs: a.retryAfterSeconds.map { Int64(min($0, 300)) * 1000 })
    }
}
