import CKitsuneZlib
import Foundation

/// Writes zip archives: deflated entries, Unix permissions, a fixed timestamp so that the same input
/// always gives the same bytes (reproducible layer builds).
public struct ZipWriter {
    /// One file of the archive.
    public struct Entry {
        public var path: String
        public var data: Data
        /// Unix permission bits, e.g. 0o755.
        public var mode: UInt16

        public init(path: String, data: Data, mode: UInt16) {
            self.path = path
            self.data = data
            self.mode = mode
        }
    }

    /// Why an archive could not be written.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The complete archive.
    public static func archive(_ entries: [Entry]) throws -> Data {
        guard entries.count < 0xFFFF else { throw Failure(description: "too many entries for a zip without zip64") }
        var out = Data()
        var central = Data()
        for entry in entries {
            let name = Data(entry.path.utf8)
            guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains("..") else {
                throw Failure(description: "refusing to write entry with an unsafe path: \(entry.path)")
            }
            let crc = entry.data.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
            let deflated = try deflate(entry.data)
            let stored = deflated.count >= entry.data.count
            let body = stored ? entry.data : deflated
            guard out.count < 0xFFFF_FFFF, body.count < 0xFFFF_FFFF, entry.data.count < 0xFFFF_FFFF else {
                throw Failure(description: "archive too large for a zip without zip64")
            }
            let offset = UInt32(out.count)
            let method: UInt16 = stored ? 0 : 8
            // Local file header.
            out.append(le32(0x0403_4B50)); out.append(le16(20)); out.append(le16(0x0800)); out.append(le16(method))
            out.append(le16(0)); out.append(le16(0x21))                      // 1980-01-01 00:00
            out.append(le32(crc)); out.append(le32(UInt32(body.count))); out.append(le32(UInt32(entry.data.count)))
            out.append(le16(UInt16(name.count))); out.append(le16(0)); out.append(name); out.append(body)
            // Central directory record: "made by" Unix, permissions in the external attributes.
            central.append(le32(0x0201_4B50)); central.append(le16(0x031E)); central.append(le16(20))
            central.append(le16(0x0800)); central.append(le16(method)); central.append(le16(0)); central.append(le16(0x21))
            central.append(le32(crc)); central.append(le32(UInt32(body.count))); central.append(le32(UInt32(entry.data.count)))
            central.append(le16(UInt16(name.count))); central.append(le16(0)); central.append(le16(0))
            central.append(le16(0)); central.append(le16(0))
            central.append(le32((UInt32(0o100000) | UInt32(entry.mode & 0o7777)) << 16))
            central.append(le32(offset)); central.append(name)
        }
        let centralOffset = UInt32(out.count)
        out.append(central)
        out.append(le32(0x0605_4B50)); out.append(le16(0)); out.append(le16(0))
        out.append(le16(UInt16(entries.count))); out.append(le16(UInt16(entries.count)))
        out.append(le32(UInt32(central.count))); out.append(le32(centralOffset)); out.append(le16(0))
        return out
    }

    /// Raw deflate (no zlib header), as zip stores it.
    static func deflate(_ input: Data) throws -> Data {
        var stream = z_stream()
        guard deflateInit2_(&stream, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "zlib deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, uLong(input.count))))
        let produced: Int = try input.withUnsafeBytes { inBuf in
            try output.withUnsafeMutableBytes { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(outBuf.count)
                guard zlib_deflate_finish(&stream) == Z_STREAM_END else { throw Failure(description: "zlib deflate failed") }
                return Int(stream.total_out)
            }
        }
        return output.prefix(produced)
    }

    static func le16(_ v: UInt16) -> Data { Data([UInt8(v & 0xFF), UInt8(v >> 8)]) }
    static func le32(_ v: UInt32) -> Data { Data((0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) }) }
}

/// `deflate(strm, Z_FINISH)` (the name `deflate` is taken by ZipWriter's own method).
private func zlib_deflate_finish(_ stream: inout z_stream) -> Int32 { CKitsuneZlib.deflate(&stream, Z_FINISH) }
