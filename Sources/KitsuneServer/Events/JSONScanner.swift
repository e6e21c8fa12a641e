/// A strict JSON (RFC 8259) parser over raw bytes that keeps, for every value, the byte range it came
/// from: events are stored exactly as the sender wrote them, while the server reads the few fields it
/// indexes. Hostile input is expected: nesting is bounded, strings must be valid UTF-8 without raw
/// control characters, lone surrogates and duplicate object keys are refused.
/// Not `indirect`: arrays and objects hold their elements out of line already, and boxing every
/// value cost an allocation a value on the ingest path.
public enum JSONValue: Sendable, Equatable {
    case string(String)
    /// A number, as its text.
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([JSONMember])

    /// The string, if this is one.
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    /// The member named `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.member(key)?.value
    }
}

extension [JSONMember] {
    /// The member named `key`. Lengths are compared first: most members a lookup passes differ in
    /// length, and comparing two strings' bytes costs a call each.
    public func member(_ key: String) -> JSONMember? {
        let count = key.utf8.count
        return first { $0.key.utf8.count == count && $0.key == key }
    }
}

/// One `"key": value` of an object, with the value's byte range in the parsed text.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue
    public var range: Range<Int>
}

/// Where and why the text is not acceptable JSON.
public struct JSONScanError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { "\(message) at byte \(offset)" }
}

/// Parses `text`; values are returned with byte ranges relative to `text`.
public struct JSONScanner {
    private let text: [UInt8]
    private var i: Int
    private var depth = 0
    private let maxDepth: Int

    public init(_ text: [UInt8], maxDepth: Int = 32) {
        self.text = text
        self.maxDepth = maxDepth
        i = 0
    }

    /// Splits a top-level array into its elements: each element's value and byte range.
    public mutating func topLevelArray() throws(JSONScanError) -> [(value: JSONValue, range: Range<Int>)] {
        skipSpace()
        guard peek() == UInt8(ascii: "[") else { throw fail("the body must be a JSON array of events") }
        i += 1
        var elements: [(value: JSONValue, range: Range<Int>)] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") { i += 1 } else {
            while true {
                skipSpace()
                let start = i
                let value = try parseValue()
                elements.append((value, start..<i))
                skipSpace()
                if peek() == UInt8(ascii: ",") { i += 1; continue }
                guard peek() == UInt8(ascii: "]") else { throw fail("expected , or ] in the array") }
                i += 1
                break
            }
        }
        skipSpace()
        guard i == text.count else { throw fail("unexpected content after the array") }
        return elements
    }

    /// Parses one whole document.
    public mutating func document() throws(JSONScanError) -> JSONValue {
        skipSpace()
        let value = try parseValue()
        skipSpace()
        guard i == text.count else { throw fail("unexpected content after the JSON value") }
        return value
    }

    private func peek() -> UInt8? { i < text.count ? text[i] : nil }
    private func fail(_ message: String) -> JSONScanError { JSONScanError(offset: i, message: message) }

    private mutating func skipSpace() {
        while i < text.count, text[i] == 32 || text[i] == 9 || text[i] == 10 || text[i] == 13 { i += 1 }
    }

    private mutating func parseValue() throws(JSONScanError) -> JSONValue {
        guard let c = peek() else { throw fail("unexpected end of JSON") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONScanError) {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard i + bytes.count <= text.count, text[i..<(i + bytes.count)].elementsEqual(bytes) else { throw fail("invalid literal") }
        i += bytes.count
    }

    private mutating func enter() throws(JSONScanError) {
        depth += 1
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
    }

    /// Objects up to this many members are checked for duplicate keys without hashing.
    private static let linearKeyLimit = 24

    private mutating func parseObject() throws(JSONScanError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        i += 1
        var members: [JSONMember] = []
        // Duplicate keys: a linear look through the few members an event has (hashing every key cost
        // more than the rest of the parse), a set once an object is larger than that.
        var keys: Set<String>? = nil
        skipSpace()
        if peek() == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a field name") }
            let key = try parseString()
            let duplicate: Bool
            if keys == nil, members.count < Self.linearKeyLimit {
                duplicate = members.member(key) != nil
            } else {
                if keys == nil { keys = Set(members.map(\.key)) }
                duplicate = !keys!.insert(key).inserted
            }
            guard !duplicate else { throw fail("duplicate field \"\(String(key.prefix(64)))\"") }
            skipSpace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected : after a field name") }
            i += 1
            skipSpace()
            let start = i
            let value = try parseValue()
            if members.isEmpty { members.reserveCapacity(16) }  // an event's fields, without regrowing
            members.append(JSONMember(key: key, value: value, range: start..<i))
            skipSpace()
            if peek() == UInt8(ascii: ",") { i += 1; continue }
            guard peek() == UInt8(ascii: "}") else { throw fail("expected , or } in an object") }
            i += 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(JSONScanError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        i += 1
        var values: [JSONValue] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") { i += 1; return .array(values) }
        while true {
            skipSpace()
            values.append(try parseValue())
            skipSpace()
            if peek() == UInt8(ascii: ",") { i += 1; continue }
            guard peek() == UInt8(ascii: "]") else { throw fail("expected , or ] in an array") }
            i += 1
            return .array(values)
        }
    }

    private mutating func parseNumber() throws(JSONScanError) -> String {
        let start = i
        if peek() == UInt8(ascii: "-") { i += 1 }
        guard let first = peek(), first >= 48, first <= 57 else { throw fail("invalid value") }
        if first == 48 { i += 1 } else { while let c = peek(), c >= 48, c <= 57 { i += 1 } }
        if peek() == UInt8(ascii: ".") {
            i += 1
            guard let c = peek(), c >= 48, c <= 57 else { throw fail("invalid number") }
            while let c = peek(), c >= 48, c <= 57 { i += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            i += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { i += 1 }
            guard let c = peek(), c >= 48, c <= 57 else { throw fail("invalid number") }
            while let c = peek(), c >= 48, c <= 57 { i += 1 }
        }
        return String(decoding: text[start..<i], as: UTF8.self)
    }

    /// The string `bytes` spell, refusing invalid UTF-8. `String(decoding:)` is the fast, specialized
    /// path (the generic `String(validating:)` over a slice cost a metadata lookup a string); it
    /// repairs invalid sequences, so a string that does not spell its bytes back exactly was invalid.
    private static func string(_ bytes: ArraySlice<UInt8>, ascii: Bool, at offset: Int) throws(JSONScanError) -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        guard ascii || s.utf8.elementsEqual(bytes) else { throw JSONScanError(offset: offset, message: "string is not valid UTF-8") }
        return s
    }

    private mutating func parseString() throws(JSONScanError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        var ascii = true
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: "\"") {
                let s = try Self.string(text[start..<i], ascii: ascii, at: i)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in a string") }
            ascii = ascii && c < 0x80
            i += 1
        }
        var bytes = Array(text[start..<i])
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: "\"") {
                let s = try Self.string(bytes[...], ascii: false, at: i)
                i += 1
                return s
            }
            if c < 0x20 { throw fail("control character in a string") }
            if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
            i += 1
            guard let e = peek() else { break }
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(8)
            case UInt8(ascii: "f"): bytes.append(12)
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "r"): bytes.append(13)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard peek() == UInt8(ascii: "\\"), i + 1 < text.count, text[i + 1] == UInt8(ascii: "u") else { throw fail("lone surrogate in \\u escape") }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("lone surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                bytes.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("invalid escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws(JSONScanError) -> UInt32 {
        guard i + 4 <= text.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = text[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}
