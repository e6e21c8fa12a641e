/// Builds JSON text directly: API responses embed stored events verbatim, which an encoder of
/// Swift values cannot do. Strings are escaped per RFC 8259 (and `<`, `>`, `&` as `\u` escapes, so a
/// response pasted into HTML stays inert).
public struct JSONWriter: Sendable {
    public private(set) var text = ""
    private var needsComma: [Bool] = [false]

    public init() {}

    public mutating func beginObject() { separator(); text += "{"; needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); text += "}" }
    public mutating func beginArray() { separator(); text += "["; needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); text += "]" }

    /// A member name; the value follows.
    public mutating func key(_ name: String) {
        separator()
        Self.escape(name, into: &text)
        text += ":"
        needsComma[needsComma.count - 1] = false
    }

    public mutating func value(_ s: String?) {
        separator()
        if let s { Self.escape(s, into: &text) } else { text += "null" }
    }

    public mutating func value(_ n: Int64?) { separator(); text += n.map { String($0) } ?? "null" }
    public mutating func value(_ n: Int) { value(Int64(n)) }
    public mutating func value(_ b: Bool) { separator(); text += b ? "true" : "false" }
    /// Already-valid JSON text (a stored event), inserted as it is.
    public mutating func raw(_ json: String) { separator(); text += json }

    /// `"name": value` in one call.
    public mutating func field(_ name: String, _ s: String?) { key(name); value(s) }
    public mutating func field(_ name: String, _ n: Int64?) { key(name); value(n) }
    public mutating func field(_ name: String, _ n: Int) { key(name); value(n) }
    public mutating func field(_ name: String, _ b: Bool) { key(name); value(b) }
    public mutating func field(_ name: String, raw json: String) { key(name); raw(json) }
    public mutating func field(_ name: String, strings: [String]) {
        key(name)
        beginArray()
        for s in strings { value(s) }
        endArray()
    }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    /// Appends `s` as a JSON string literal.
    public static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
