// Byte-string helpers for kitsune-ship (Embedded Swift: no Foundation, no String processing).
import CKitsuneSys

/// A UTF-8 byte string.
typealias Bytes = [UInt8]

extension Array where Element == UInt8 {
    /// The bytes of a static string literal.
    init(literal s: StaticString) {
        self.init(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    func hasPrefix(_ p: Bytes) -> Bool {
        guard p.count <= count else { return false }
        var i = 0
        while i < p.count { if self[i] != p[i] { return false }; i += 1 }
        return true
    }

    /// An unsigned decimal integer of at most `maxDigits` digits; nil when malformed.
    func decimalValue(maxDigits: Int = 18) -> Int? {
        guard !isEmpty, count <= maxDigits else { return nil }
        var v = 0
        for b in self {
            guard b >= 48 && b <= 57 else { return nil }
            v = v * 10 + Int(b - 48)
        }
        return v
    }
}

/// Decimal text of an integer.
func decimalBytes(_ value: Int) -> Bytes {
    if value == 0 { return [48] }
    var v = value < 0 ? -value : value
    var out: Bytes = []
    while v > 0 { out.append(UInt8(48 + v % 10)); v /= 10 }
    if value < 0 { out.append(45) }
    return out.reversed()
}

/// The bytes of a NUL-terminated C string.
func bytes(ofCString p: UnsafePointer<CChar>) -> Bytes {
    var out: Bytes = []
    var i = 0
    while p[i] != 0 { out.append(UInt8(bitPattern: p[i])); i += 1 }
    return out
}

/// Call `body` with `text` as a NUL-terminated C string.
func withCString<T>(_ text: Bytes, _ body: (UnsafePointer<CChar>) -> T) -> T {
    var z = text
    z.append(0)
    return z.withUnsafeBufferPointer { buf in
        buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { body($0) }
    }
}

/// Write all of `data` to `fd`, ignoring errors.
func writeAll(_ fd: Int32, _ data: Bytes) {
    data.withUnsafeBufferPointer { _ = ks_write_all(fd, $0.baseAddress, $0.count) }
}

/// Text of an errno value.
func errorText(_ err: Int32) -> Bytes {
    guard let p = ks_strerror(err) else { return decimalBytes(Int(err)) }
    return bytes(ofCString: p)
}

/// An environment variable of this process.
func environment(_ name: StaticString) -> Bytes? {
    guard let envp = ks_envp() else { return nil }
    let prefix = Bytes(literal: name) + [61]
    var i = 0
    while let entry = envp[i] {
        let e = bytes(ofCString: entry)
        if e.hasPrefix(prefix) { return Bytes(e[prefix.count...]) }
        i += 1
    }
    return nil
}

/// Whether `path` names an existing regular file (following symbolic links).
func isRegularFile(_ path: Bytes) -> Bool {
    var st = ks_stat_t()
    return withCString(path) { ks_stat_path($0, &st) } == 0 && st.kind == 1
}

/// This process's arguments as byte strings (index 0 is the program).
func processArguments() -> [Bytes] {
    var out: [Bytes] = []
    guard let argv = ks_argv() else { return out }
    for i in 0..<Int(ks_argc()) {
        if let a = argv[i] { out.append(bytes(ofCString: a)) }
    }
    return out
}
