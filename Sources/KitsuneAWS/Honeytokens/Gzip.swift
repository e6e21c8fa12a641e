import CKitsuneZlib
import Foundation

/// gzip (and zlib) decompression via zlib, with an output cap against decompression bombs.
public enum Gzip {
    /// True when `bytes` start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// Inflates `bytes` (gzip or zlib header detected automatically; concatenated gzip members are
    /// joined). Throws a clear error naming `name` for corrupt or truncated input or when the output
    /// would exceed `limit` bytes.
    public static func decompress(_ bytes: [UInt8], name: String, limit: Int = 1 << 30) throws -> [UInt8] {
        guard !bytes.isEmpty else { throw AWSError.invalidInput("\(name): empty file, not gzip data") }
        var stream = z_stream()
        // windowBits 15 + 32: accept gzip and zlib headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw AWSError.invalidInput("\(name): cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = bytes
        let total = input.count
        return try input.withUnsafeMutableBufferPointer { inputBuffer -> [UInt8] in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(total)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit {
                    throw AWSError.invalidInput("\(name): decompresses to more than \(limit) bytes; refusing")
                }
                switch status {
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return output }
                    // Another gzip member follows.
                    guard inflateReset(&stream) == Z_OK else {
                        throw AWSError.invalidInput("\(name): corrupt data after the first gzip member")
                    }
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 {
                        throw AWSError.invalidInput("\(name): truncated gzip data (stream ends early)")
                    }
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 {
                        throw AWSError.invalidInput("\(name): truncated gzip data (stream ends early)")
                    }
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw AWSError.invalidInput("\(name): corrupt gzip data (\(reason))")
                }
            }
        }
    }
}
