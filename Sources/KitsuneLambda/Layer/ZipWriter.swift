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

    /// Local records written so far.
    private var output = Data()
    private var central = Data()
    private var count = 0

    public init() {}

    /// The complete archive of `entries`.
    public static func archive(_ entries: [Entry]) throws -> Data {
        var writer = ZipWriter()
        for entry in entries { try writer.add(entry) }
        return try writer.finish()
    }

    /// Deflate and append one entry.
    public mutating func add(_ entry: Entry) throws {
        let name = Data(entry.path.utf8)
        guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains("..") else {
            throw Failure(description: "refusing to write entry with an unsafe path: \(entry.path)")
        }
        let crc = entry.data.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
        let deflated = try Self.deflate(entry.data)
        let stored = deflated.count >= entry.data.count
        let body = stored ? entry.data : deflated
        let method: UInt16 = stored ? 0 : 8
        var local = Data()
        local.append(Self.le32(0x0403_4B50)); local.append(Self.le16(20)); local.append(Self.le16(0x0800)); local.append(Self.le16(method))
        local.append(Self.le16(0)); local.append(Self.le16(0x21))                      // 1980-01-01 00:00
        local.append(Self.le32(crc)); local.append(Self.le32(UInt32(body.count))); local.append(Self.le32(UInt32(entry.data.count)))
        local.append(Self.le16(UInt16(name.count))); local.append(Self.le16(0)); local.append(name)
        try addRaw(localHeader: local, body: body, name: name, versionNeeded: 20, flags: 0x0800, method: method,
                   dosTime: 0, dosDate: 0x21, crc: crc, compressedSize: body.count, size: entry.data.count,
                   externalAttributes: (UInt32(0o100000) | UInt32(entry.mode & 0o7777)) << 16)
    }

    /// Append an entry whose local header and (possibly compressed) body are given as they are, for
    /// copying entries of another archive bit for bit; the central directory record is made from the
    /// fields given.
    public mutating func addRaw(localHeader: Data, body: Data, name: Data, versionNeeded: UInt16, flags: UInt16, method: UInt16,
                                dosTime: UInt16, dosDate: UInt16, crc: UInt32, compressedSize: Int, size: Int,
                                externalAttributes: UInt32, madeByUnix: Bool = true) throws {
        guard count < 0xFFFE, output.count < 0xFFFF_FFFF, compressedSize < 0xFFFF_FFFF, size < 0xFFFF_FFFF else {
            throw Failure(description: "archive too large for a zip without zip64")
        }
        let offset = UInt32(output.count)
        output.append(localHeader)
        output.append(body)
        central.append(Self.le32(0x0201_4B50)); central.append(Self.le16(madeByUnix ? 0x031E : 20)); central.append(Self.le16(versionNeeded))
        central.append(Self.le16(flags)); central.append(Self.le16(method)); central.append(Self.le16(dosTime)); central.append(Self.le16(dosDate))
        central.append(Self.le32(crc)); central.append(Self.le32(UInt32(compressedSize))); central.append(Self.le32(UInt32(size)))
        central.append(Self.le16(UInt16(name.count))); central.append(Self.le16(0)); central.append(Self.le16(0))
        central.append(Self.le16(0)); central.append(Self.le16(0))
        central.append(Self.le32(externalAttributes))
        central.append(Self.le32(offset)); central.append(name)
        count += 1
    }

    /// The archive: local records, central directory, end record.
    public func finish() throws -> Data {
        var out = output
        let centralOffset = UInt32(out.count)
        out.append(central)
        out.append(Self.le32(0x0605_4B50)); out.append(Self.le16(0)); out.append(Self.le16(0))
        out.append(Self.le16(UInt16(count))); out.append(Self.le16(UInt16(count)))
        out.append(Self.le32(UInt32(central.count))); out.append(Self.le32(centralOffset)); out.append(Self.le16(0))
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
