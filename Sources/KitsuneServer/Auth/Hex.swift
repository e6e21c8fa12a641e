extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal, two digits each (digests, token secrets, ETags).
    /// `String(format: "%02x")` a byte cost a microsecond each on the ingest path.
    var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
