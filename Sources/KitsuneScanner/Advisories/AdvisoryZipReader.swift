import CKitsuneZlib
import Foundation

/// A minimal zip reader for advisory archives (osv.dev `all.zip`): central directory (with ZIP64),
/// stored and deflated entries, CRC-32 checked, every size bounded. Reads from memory.
struct AdvisoryZipReader {
    struct Entry {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
    }

    let path: String
    let bytes: [UInt8]
    let entries: [Entry]
    /// Largest single entry that will be inflated (an OSV record is a few hundred KB at most).
    static let maxEntrySize = 64 << 20

    init(path: String, bytes: [UInt8]) throws {
        self.path = path
        self.bytes = bytes
        self.entries = try Self.centralDirectory(path: path, bytes)
    }

    private static func u16(_ b: [UInt8], _ o: Int) -> Int? {
        guard o >= 0, o + 2 <= b.count else { return nil }
        return Int(b[o]) | Int(b[o + 1]) << 8
    }
    private static func u32(_ b: [UInt8], _ o: Int) -> Int? {
        guard let lo = u16(b, o), let hi = u16(b, o + 2) else { return nil }
        return lo | hi << 16
    }
    private static func u64(_ b: [UInt8], _ o: Int) -> Int? {
        guard let lo = u32(b, o), let hi = u32(b, o + 4), hi < 1 << 30 else { return nil }
        return lo | hi << 32
    }

    private static func centralDirectory(path: String, _ b: [UInt8]) throws -> [Entry] {
        func bad(_ why: String) -> AdvisoryError { .unreadable(path: path, reason: "not a readable zip archive: \(why)") }
        guard b.count >= 22 else { throw bad("too short (\(b.count) bytes)") }
        var eocd = -1
        var i = b.count - 22
        let lowest = max(0, b.count - 22 - 65_535)
        while i >= lowest {
            if b[i] == 0x50, b[i + 1] == 0x4b, b[i + 2] == 0x05, b[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("end of central directory record not found (truncated?)") }
        guard var count = u16(b, eocd + 10), var cdSize = u32(b, eocd + 12), var cdOffset = u32(b, eocd + 16)
        else { throw bad("end of central directory record truncated") }
        // ZIP64 end of central directory locator just before the EOCD.
        if count == 0xFFFF || cdOffset == 0xFFFF_FFFF || cdSize == 0xFFFF_FFFF {
            let loc = eocd - 20
            guard loc >= 0, u32(b, loc) == 0x0706_4b50, let rec = u64(b, loc + 8), u32(b, rec) == 0x0606_4b50,
                  let c = u64(b, rec + 32), let s = u64(b, rec + 40), let o = u64(b, rec + 48)
            else { throw bad("ZIP64 end of central directory is missing or corrupt") }
            count = c; cdSize = s; cdOffset = o
        }
        guard cdOffset + cdSize <= b.count else { throw bad("central directory lies outside the file (truncated?)") }
        var entries: [Entry] = []
        entries.reserveCapacity(min(count, 1 << 20))
        var p = cdOffset
        for n in 0..<count {
            guard u32(b, p) == 0x0201_4b50, let flags = u16(b, p + 8), let method = u16(b, p + 10),
                  let crc = u32(b, p + 16), var csize = u32(b, p + 20), var usize = u32(b, p + 24),
                  let nameLen = u16(b, p + 28), let extraLen = u16(b, p + 30), let commentLen = u16(b, p + 32),
                  var offset = u32(b, p + 42), p + 46 + nameLen + extraLen <= b.count
            else { throw bad("central directory entry \(n) is corrupt") }
            let name = String(decoding: b[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
            // ZIP64 extended information extra field.
            var e = p + 46 + nameLen
            let extraEnd = e + extraLen
            while e + 4 <= extraEnd, let id = u16(b, e), let len = u16(b, e + 2) {
                if id == 1 {
                    var q = e + 4
                    if usize == 0xFFFF_FFFF, let v = u64(b, q) { usize = v; q += 8 }
                    if csize == 0xFFFF_FFFF, let v = u64(b, q) { csize = v; q += 8 }
                    if offset == 0xFFFF_FFFF, let v = u64(b, q) { offset = v }
                }
                e += 4 + len
            }
            entries.append(Entry(name: name, method: UInt16(method), flags: UInt16(flags), crc: UInt32(crc),
                                 compressedSize: csize, size: usize, localHeaderOffset: offset))
            p += 46 + nameLen + extraLen + commentLen
        }
        return entries
    }

    /// The uncompressed bytes of an entry, verified against its CRC-32.
    func read(_ entry: Entry) throws -> [UInt8] {
        func bad(_ why: String) -> AdvisoryError { .unreadable(path: "\(path)!/\(entry.name)", reason: why) }
        if entry.flags & 1 != 0 { throw bad("entry is encrypted") }
        guard entry.size <= Self.maxEntrySize else { throw bad("entry is \(entry.size) bytes, over the \(Self.maxEntrySize) limit") }
        let h = entry.localHeaderOffset
        guard Self.u32(bytes, h) == 0x0403_4b50, let nameLen = Self.u16(bytes, h + 26), let extraLen = Self.u16(bytes, h + 28)
        else { throw bad("local header missing") }
        let start = h + 30 + nameLen + extraLen
        guard start + entry.compressedSize <= bytes.count else { throw bad("entry data truncated") }
        let out: [UInt8]
        switch entry.method {
        case 0:
            out = Array(bytes[start..<(start + entry.compressedSize)])
        case 8:
            out = try inflateRaw(start: start, count: entry.compressedSize, expected: entry.size, onError: bad)
        default:
            throw bad("unsupported compression method \(entry.method)")
        }
        guard out.count == entry.size else { throw bad("size \(out.count) differs from the recorded \(entry.size)") }
        let crc = out.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        guard crc == entry.crc else { throw bad("CRC-32 mismatch (corrupt archive)") }
        return out
    }

    private func inflateRaw(start: Int, count: Int, expected: Int, onError: (String) -> AdvisoryError) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw onError("zlib initialisation failed")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: expected + 1)
        let status: Int32 = bytes.withUnsafeBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                guard let base = inBuf.baseAddress else { return Z_DATA_ERROR }
                stream.next_in = UnsafeMutablePointer(mutating: base + start)
                stream.avail_in = uInt(count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw onError("deflate stream is corrupt or larger than recorded (zlib \(status))") }
        out.removeLast(out.count - Int(stream.total_out))
        return out
    }
}
