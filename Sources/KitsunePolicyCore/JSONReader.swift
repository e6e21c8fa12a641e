// A small, strict JSON reader (RFC 8259) producing ``DataNode`` trees with line numbers. Used by the
// enforcer for manifests; bounded nesting so a hostile file cannot exhaust the stack.

/// Reads JSON into a ``DataNode`` tree. Numbers, `true` and `false` become scalars holding their text.
public struct JSONReader {
    let text: Bytes
    var i = 0
    var line = 1
    var depth = 0
    static let maxDepth = 64

    init(_ text: Bytes) { self.text = text }

    /// Parse one JSON document.
    public static func parse(_ source: Bytes) throws(ParseError) -> DataNode {
        var r = JSONReader(source)
        r.skipSpace()
        let node = try r.value()
        r.skipSpace()
        guard r.i == r.text.count else { throw ParseError(line: r.line, "unexpected content after the JSON value") }
        return node
    }

    mutating func skipSpace() {
        while i < text.count {
            let c = text[i]
            if c == 10 { line += 1 } else if c != 32 && c != 9 && c != 13 { return }
            i += 1
        }
    }

    mutating func value() throws(ParseError) -> DataNode {
        guard i < text.count else { throw ParseError(line: line, "unexpected end of JSON") }
        switch text[i] {
        case 123: return try object()
        case 91: return try array()
        case 34: let l = line; return .scalar(try string(), line: l)
        case 110: try literal(Bytes(literal: "null")); return .null(line: line)
        case 116: try literal(Bytes(literal: "true")); return .scalar(Bytes(literal: "true"), line: line)
        case 102: try literal(Bytes(literal: "false")); return .scalar(Bytes(literal: "false"), line: line)
        default: return try number()
        }
    }

    mutating func literal(_ word: Bytes) throws(ParseError) {
        guard i + word.count <= text.count, Bytes(text[i..<(i + word.count)]) == word else {
            throw ParseError(line: line, "invalid JSON literal")
        }
        i += word.count
    }

    mutating func number() throws(ParseError) -> DataNode {
        let start = i
        while i < text.count, let c = Optional(text[i]), (c >= 48 && c <= 57) || c == 45 || c == 43 || c == 46 || c == 101 || c == 69 {
            i += 1
        }
        guard i > start else { throw ParseError(line: line, "invalid JSON value") }
        return .scalar(Bytes(text[start..<i]), line: line)
    }

    mutating func enter() throws(ParseError) {
        depth += 1
        if depth > Self.maxDepth { throw ParseError(line: line, "JSON nested too deeply") }
    }

    mutating func object() throws(ParseError) -> DataNode {
        let start = line
        try enter()
        i += 1
        var entries: [DataEntry] = []
        skipSpace()
        if i < text.count && text[i] == 125 { i += 1; depth -= 1; return .map(entries, line: start) }
        while true {
            skipSpace()
            guard i < text.count && text[i] == 34 else { throw ParseError(line: line, "expected a string key in JSON object") }
            let keyLine = line
            let key = try string()
            skipSpace()
            guard i < text.count && text[i] == 58 else { throw ParseError(line: line, "expected `:` in JSON object") }
            i += 1
            skipSpace()
            let v = try value()
            entries.append(DataEntry(key: key, value: v, line: keyLine))
            skipSpace()
            guard i < text.count else { throw ParseError(line: line, "unterminated JSON object") }
            if text[i] == 44 { i += 1; continue }
            if text[i] == 125 { i += 1; break }
            throw ParseError(line: line, "expected `,` or `}` in JSON object")
        }
        depth -= 1
        return .map(entries, line: start)
    }

    mutating func array() throws(ParseError) -> DataNode {
        let start = line
        try enter()
        i += 1
        var items: [DataNode] = []
        skipSpace()
        if i < text.count && text[i] == 93 { i += 1; depth -= 1; return .list(items, line: start) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard i < text.count else { throw ParseError(line: line, "unterminated JSON array") }
            if text[i] == 44 { i += 1; continue }
            if text[i] == 93 { i += 1; break }
            throw ParseError(line: line, "expected `,` or `]` in JSON array")
        }
        depth -= 1
        return .list(items, line: start)
    }

    mutating func string() throws(ParseError) -> Bytes {
        i += 1
        var out: Bytes = []
        while i < text.count {
            let c = text[i]
            if c == 34 { i += 1; return out }
            if c < 32 { throw ParseError(line: line, "control character in JSON string") }
            if c != 92 { out.append(c); i += 1; continue }
            guard i + 1 < text.count else { break }
            let e = text[i + 1]
            i += 2
            switch e {
            case 34, 92, 47: out.append(e)
            case 98: out.append(8)
            case 102: out.append(12)
            case 110: out.append(10)
            case 114: out.append(13)
            case 116: out.append(9)
            case 117:
                var code = try hex4()
                if code >= 0xD800 && code < 0xDC00 {
                    guard i + 1 < text.count, text[i] == 92, text[i + 1] == 117 else {
                        throw ParseError(line: line, "unpaired surrogate in JSON string")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw ParseError(line: line, "invalid surrogate pair in JSON string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                appendUTF8(code, to: &out)
            default: throw ParseError(line: line, "invalid escape in JSON string")
            }
        }
        throw ParseError(line: line, "unterminated JSON string")
    }

    mutating func hex4() throws(ParseError) -> UInt32 {
        guard i + 4 <= text.count, let b = parseHex(Bytes(text[i..<(i + 4)])) else {
            throw ParseError(line: line, "invalid \\u escape in JSON string")
        }
        i += 4
        return UInt32(b[0]) << 8 | UInt32(b[1])
    }
}

/// Append the UTF-8 encoding of a code point.
func appendUTF8(_ c: UInt32, to out: inout Bytes) {
    switch c {
    case 0..<0x80: out.append(UInt8(c))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | (c >> 6))); out.append(UInt8(0x80 | (c & 0x3F)))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | (c >> 12))); out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
    default:
        out.append(UInt8(0xF0 | (c >> 18))); out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
    }
}
