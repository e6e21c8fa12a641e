import CKitsuneZlib
import Foundation

/// Layer compression. gzip through zlib; zstd is not available (no vendored package, and the
/// system's libzstd development files are not a build dependency), so zstd layers are refused by name.
public enum Compression: String, Sendable {
    case none, gzip, zstd

    /// From the first bytes of a blob.
    public static func sniff(_ head: [UInt8]) -> Compression {
        if head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B { return .gzip }
        if head.count >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD { return .zstd }
        return .none
    }

    /// The uncompressed bytes of `blob` (at most `limit` bytes: decompression bombs are refused).
    public static func decompress(_ blob: [UInt8], name: String, limit: Int) throws -> [UInt8] {
        switch sniff(Array(blob.prefix(4))) {
        case .none:
            guard blob.count <= limit else { throw ContainerError("\(name): \(blob.count) bytes, beyond the limit of \(limit); refusing") }
            return blob
        case .zstd: throw ContainerError("\(name): zstd-compressed layer; this build of Kitsune reads gzip and uncompressed layers only")
        case .gzip: return try gunzip(blob, name: name, limit: limit)
        }
    }

    static func gunzip(_ blob: [UInt8], name: String, limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ContainerError("\(name): cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, blob.count * 3))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var input = blob
        return try input.withUnsafeMutableBufferPointer { inBuf -> [UInt8] in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { throw ContainerError("\(name): decompresses to more than \(limit) bytes; refusing") }
                switch status {
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return output }
                    guard inflateReset(&stream) == Z_OK else { throw ContainerError("\(name): corrupt gzip data after the first member") }
                case Z_OK: continue
                case Z_BUF_ERROR where stream.avail_in == 0: throw ContainerError("\(name): truncated gzip data")
                case Z_BUF_ERROR: continue
                default:
                    let why = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw ContainerError("\(name): corrupt gzip data (\(why))")
                }
            }
        }
    }

    /// Deterministic gzip (no name, mtime 0, fixed level): the same input always gives the same bytes.
    public static func gzip(_ data: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ContainerError("gzip: cannot initialise zlib")
        }
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var input = data
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return zlibDeflateFinish(&stream)
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                if status == Z_STREAM_END { return }
                guard status == Z_OK || status == Z_BUF_ERROR else { throw ContainerError("gzip: deflate failed (\(status))") }
            }
        }
        return output
    }
}

private func zlibDeflateFinish(_ stream: inout z_stream) -> Int32 { CKitsuneZlib.deflate(&stream, Z_FINISH) }
