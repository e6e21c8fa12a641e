// Builds the JSON-lines events of the enforcer (see docs/events.md for the contract).

/// Accumulates one JSON object, field by field, with correct string escaping.
public struct JSONObjectWriter {
    public private(set) var bytes: Bytes = [123]
    var first = true

    public init() {}

    mutating func key(_ k: StaticString) {
        if !first { bytes.append(44) }
        first = false
        bytes.append(34)
        bytes.append(contentsOf: Bytes(literal: k))
        bytes.append(contentsOf: [34, 58])
    }

    public mutating func string(_ k: StaticString, _ v: Bytes) {
        key(k)
        Self.appendString(v, to: &bytes)
    }

    public mutating func string(_ k: StaticString, _ v: StaticString) { string(k, Bytes(literal: v)) }

    public mutating func int(_ k: StaticString, _ v: Int) {
        key(k)
        bytes.append(contentsOf: decimalBytes(v))
    }

    public mutating func bool(_ k: StaticString, _ v: Bool) {
        key(k)
        bytes.append(contentsOf: Bytes(literal: v ? "true" : "false"))
    }

    public mutating func strings(_ k: StaticString, _ v: [Bytes]) {
        key(k)
        bytes.append(91)
        for (i, s) in v.enumerated() {
            if i > 0 { bytes.append(44) }
            Self.appendString(s, to: &bytes)
        }
        bytes.append(93)
    }

    /// A nested object written by `body`.
    public mutating func object(_ k: StaticString, _ body: (inout JSONObjectWriter) -> Void) {
        key(k)
        var inner = JSONObjectWriter()
        body(&inner)
        bytes.append(contentsOf: inner.finished())
    }

    /// An array of `count` objects, the `i`-th written by `body(i, &object)`.
    public mutating func objects(_ k: StaticString, count: Int, _ body: (Int, inout JSONObjectWriter) -> Void) {
        key(k)
        bytes.append(91)
        for i in 0..<count {
            if i > 0 { bytes.append(44) }
            var inner = JSONObjectWriter()
            body(i, &inner)
            bytes.append(contentsOf: inner.finished())
        }
        bytes.append(93)
    }

    /// The object's bytes, closed.
    public func finished() -> Bytes { bytes + [125] }

    /// The object's bytes, closed, with a newline: one JSON line.
    public func line() -> Bytes { bytes + [125, 10] }

    /// Append `s` as a JSON string. Invalid UTF-8 bytes are replaced by U+FFFD so the line stays valid JSON.
    public static func appendString(_ s: Bytes, to out: inout Bytes) {
        out.append(34)
        var i = 0
        let hex = Bytes(literal: "0123456789abcdef")
        while i < s.count {
            let c = s[i]
            if c == 34 || c == 92 { out.append(92); out.append(c); i += 1; continue }
            if c < 0x20 {
                switch c {
                case 10: out.append(contentsOf: [92, 110])
                case 13: out.append(contentsOf: [92, 114])
                case 9: out.append(contentsOf: [92, 116])
                default: out.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
                }
                i += 1
                continue
            }
            if c < 0x80 { out.append(c); i += 1; continue }
            let n = utf8SequenceLength(s, i)
            if n == 0 {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                i += 1
            } else {
                out.append(contentsOf: s[i..<(i + n)])
                i += n
            }
        }
        out.append(34)
    }

    /// Length of the valid UTF-8 sequence at `i`, or 0.
    static func utf8SequenceLength(_ s: Bytes, _ i: Int) -> Int {
        let c = s[i]
        let n: Int
        if c & 0xE0 == 0xC0 && c >= 0xC2 { n = 2 } else if c & 0xF0 == 0xE0 { n = 3 } else if c & 0xF8 == 0xF0 && c <= 0xF4 { n = 4 } else { return 0 }
        guard i + n <= s.count else { return 0 }
        for j in 1..<n where s[i + j] & 0xC0 != 0x80 { return 0 }
        return n
    }
}

/// RFC 3339 UTC timestamp with milliseconds from nanoseconds since the epoch.
public func rfc3339(nanoseconds: Int64) -> Bytes {
    let ms = Int(nanoseconds / 1_000_000)
    let secs = ms / 1000
    var days = secs / 86400
    let rem = secs % 86400
    // Civil-from-days (Howard Hinnant's algorithm).
    days += 719_468
    let era = days / 146_097
    let doe = days - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ v: Int, _ width: Int) -> Bytes {
        var d = decimalBytes(v)
        while d.count < width { d.insert(48, at: 0) }
        return d
    }
    var out = pad(year, 4)
    out.append(45); out += pad(month, 2); out.append(45); out += pad(day, 2)
    out.append(84); out += pad(rem / 3600, 2); out.append(58); out += pad(rem % 3600 / 60, 2)
    out.append(58); out += pad(rem % 60, 2); out.append(46); out += pad(ms % 1000, 3); out.append(90)
    return out
}
