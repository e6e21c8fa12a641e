// Byte-string helpers. The policy core works on UTF-8 bytes rather than String so that it compiles
// unchanged into the Embedded Swift enforcer (no Unicode tables, no Foundation).

/// A UTF-8 byte string.
public typealias Bytes = [UInt8]

func ascii(_ s: StaticString) -> Bytes {
    Bytes(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
}

extension Array where Element == UInt8 {
    /// The bytes of a static string literal.
    public init(literal s: StaticString) { self = ascii(s) }

    public func hasPrefix(_ p: Bytes) -> Bool {
        guard p.count <= count else { return false }
        var i = 0
        while i < p.count { if self[i] != p[i] { return false }; i += 1 }
        return true
    }

    public func hasSuffix(_ p: Bytes) -> Bool {
        guard p.count <= count else { return false }
        let off = count - p.count
        var i = 0
        while i < p.count { if self[off + i] != p[i] { return false }; i += 1 }
        return true
    }

    public func contains(bytes p: Bytes) -> Bool { firstIndex(of: p) != nil }

    /// Every occurrence of `p` replaced by `replacement`.
    public func replacing(_ p: Bytes, with replacement: Bytes) -> Bytes {
        guard !p.isEmpty, var at = firstIndex(of: p) else { return self }
        var out = Bytes(self[..<at])
        while true {
            out += replacement
            let rest = at + p.count
            guard let next = firstIndex(of: p, from: rest) else { out += self[rest...]; return out }
            out += self[rest..<next]
            at = next
        }
    }

    public func firstIndex(of p: Bytes, from start: Int = 0) -> Int? {
        guard !p.isEmpty, p.count <= count else { return p.isEmpty ? start : nil }
        var i = start
        while i + p.count <= count {
            var j = 0
            while j < p.count && self[i + j] == p[j] { j += 1 }
            if j == p.count { return i }
            i += 1
        }
        return nil
    }

    /// Leading and trailing spaces, tabs, CR and LF removed.
    public func trimmed() -> Bytes {
        var s = 0, e = count
        while s < e && isSpace(self[s]) { s += 1 }
        while e > s && isSpace(self[e - 1]) { e -= 1 }
        return Bytes(self[s..<e])
    }

    /// The pieces between separators, empty ones included (`a,,b` → `a`, ``, `b`); each piece is
    /// copied once.
    public func split(separator: UInt8) -> [Bytes] {
        var out: [Bytes] = []
        var start = 0
        for i in indices where self[i] == separator {
            out.append(Bytes(self[start..<i]))
            start = i + 1
        }
        out.append(Bytes(self[start...]))
        return out
    }

    /// Lower-case ASCII.
    public func lowercasedASCII() -> Bytes {
        map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
    }

    /// Interpret as an unsigned decimal integer.
    public func decimalValue() -> Int? {
        guard !isEmpty, count < 19 else { return nil }
        var v = 0
        for b in self {
            guard b >= 48 && b <= 57 else { return nil }
            v = v * 10 + Int(b - 48)
        }
        return v
    }
}

func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }

/// Decimal text of an integer.
public func decimalBytes(_ value: Int) -> Bytes {
    if value == 0 { return [48] }
    var v = value < 0 ? -value : value
    var out: Bytes = []
    while v > 0 { out.append(UInt8(48 + v % 10)); v /= 10 }
    if value < 0 { out.append(45) }
    return out.reversed()
}

/// Lower-case hexadecimal text of bytes.
public func hexBytes(_ data: Bytes) -> Bytes {
    let digits = Bytes(literal: "0123456789abcdef")
    var out: Bytes = []
    out.reserveCapacity(data.count * 2)
    for b in data { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return out
}

/// Parse lower- or upper-case hexadecimal text; nil when malformed.
public func parseHex(_ text: Bytes) -> Bytes? {
    guard text.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
    var out: Bytes = []
    var i = 0
    while i < text.count {
        guard let hi = nibble(text[i]), let lo = nibble(text[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

/// Path operations on absolute, `/`-separated byte paths.
public enum Path {
    /// Lexically normalized: `//` collapsed, `.` removed, `..` applied, no trailing `/` (except root).
    public static func normalize(_ path: Bytes) -> Bytes {
        var parts: [Bytes] = []
        for part in path.split(separator: 47) {
            if part.isEmpty || part == [46] { continue }
            if part == [46, 46] { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        var out: Bytes = []
        for p in parts { out.append(47); out.append(contentsOf: p) }
        return out.isEmpty ? [47] : out
    }

    /// `base/rel` normalized; `rel` if it is absolute.
    public static func join(_ base: Bytes, _ rel: Bytes) -> Bytes {
        if rel.first == 47 { return normalize(rel) }
        var p = base
        p.append(47)
        p.append(contentsOf: rel)
        return normalize(p)
    }

    /// Whether `path` is `root` or beneath it (both normalized).
    public static func isBeneath(_ path: Bytes, _ root: Bytes) -> Bool {
        if root == [47] { return path.first == 47 }
        guard path.hasPrefix(root) else { return false }
        return path.count == root.count || path[root.count] == 47
    }

    /// The last path component.
    public static func baseName(_ path: Bytes) -> Bytes {
        var i = path.count
        while i > 0 && path[i - 1] != 47 { i -= 1 }
        return Bytes(path[i...])
    }

    /// Shell-style match of a name against a pattern with `*` and `?`.
    public static func globMatch(_ name: Bytes, _ pattern: Bytes) -> Bool {
        var n = 0, p = 0, star = -1, mark = 0
        while n < name.count {
            if p < pattern.count && (pattern[p] == 63 || pattern[p] == name[n]) { n += 1; p += 1 }
            else if p < pattern.count && pattern[p] == 42 { star = p; mark = n; p += 1 }
            else if star >= 0 { p = star + 1; mark += 1; n = mark }
            else { return false }
        }
        while p < pattern.count && pattern[p] == 42 { p += 1 }
        return p == pattern.count
    }
}
