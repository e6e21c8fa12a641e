import Foundation

/// Percent-encoding exactly as SigV4 requires: every byte except the unreserved characters
/// `A-Z a-z 0-9 - . _ ~` becomes `%XY` (upper-case hex); space is `%20`, never `+`.
public enum AWSURIEncoding {
    private static let hex: [Character] = Array("0123456789ABCDEF")

    /// Encodes `string`. When `keepSlash` is true, `/` is left as is (used for object keys and paths).
    public static func encode(_ string: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// Decodes `%XY` escapes (and `+` as space when `plusIsSpace`); invalid escapes are kept
    /// literally rather than failing, so that a malformed value is still shown to the user.
    public static func decode(_ string: String, plusIsSpace: Bool = false) -> String {
        let bytes = Array(string.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// RFC 3986 §5.2.4 dot-segment removal plus collapsing of repeated slashes, which SigV4 applies to
    /// every service except S3. Keeps a trailing slash.
    public static func normalizePath(_ path: String) -> String {
        if path.isEmpty { return "/" }
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments {
            if segment == "." { continue }
            if segment == ".." { if !output.isEmpty { output.removeLast() }; continue }
            output.append(segment)
        }
        var result = "/" + output.joined(separator: "/")
        let endsWithDirectory = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        if endsWithDirectory && result != "/" { result += "/" }
        return result
    }

    /// Form-encodes `pairs` for the IAM/STS query protocol body (same encoding as SigV4's query).
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
