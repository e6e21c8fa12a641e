/// One entry of a zip central directory.
public struct ZipEntry: Sendable, Equatable {
    /// The entry name as stored (UTF-8, or CP437 decoded as Latin-1 when not valid UTF-8).
    public var name: String
    public var method: UInt16
    public var flags: UInt16
    public var crc32: UInt32
    public var compressedSize: Int
    public var uncompressedSize: Int
    public var localHeaderOffset: Int
    /// Unix permission bits and file type when the entry was made on Unix (`st_mode`), else nil.
    public var unixMode: UInt32?
    /// MS-DOS attributes' directory bit.
    var dosDirectory: Bool
    /// The central directory's external attributes as stored (Unix mode in the high 16 bits).
    public var externalAttributes: UInt32 = 0

    public var isEncrypted: Bool { flags & 0x0001 != 0 }
    public var isDirectory: Bool { name.hasSuffix("/") || dosDirectory || (unixMode.map { $0 & 0o170000 == 0o040000 } ?? false) }
    public var isSymlink: Bool { unixMode.map { $0 & 0o170000 == 0o120000 } ?? false }
    /// Permission bits (e.g. `0o755`), when known.
    public var permissions: UInt32? { unixMode.map { $0 & 0o7777 } }
}

/// A zip archive's central directory, read from a ``ByteSource`` (zip64 aware). Nothing is extracted:
/// entries are streamed with ``ZipEntryReader``.
public struct ZipArchive: Sendable {
    public let source: any ByteSource
    /// Name of the archive for messages (path, or parent entry path).
    public let name: String
    public let entries: [ZipEntry]

    static let eocdSignature: UInt32 = 0x0605_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let zip64EOCDSignature: UInt32 = 0x0606_4b50
    static let centralSignature: UInt32 = 0x0201_4b50
    static let localSignature: UInt32 = 0x0403_4b50

    /// Whether `header` starts like a zip archive (local header, or the end record of an empty zip).
    public static func looksLikeZip(_ header: [UInt8]) -> Bool {
        guard header.count >= 4, header[0] == 0x50, header[1] == 0x4b else { return false }
        return (header[2] == 3 && header[3] == 4) || (header[2] == 5 && header[3] == 6)
            || (header[2] == 7 && header[3] == 8)
    }

    /// Reads the central directory. Throws ``ScanInputError`` naming `name` for truncated or malformed
    /// archives, or more entries than `maxEntries`.
    public init(source: any ByteSource, name: String, maxEntries: Int) throws {
        self.source = source
        self.name = name
        let size = source.size
        guard size >= 22 else { throw ScanInputError(input: name, reason: "not a zip archive (too short: \(size) bytes)") }

        // End of central directory: within the last 22 + 65535 bytes.
        let tailLength = min(size, 22 + 0xFFFF)
        let tailStart = size - tailLength
        let tail = try source.read(at: tailStart, count: tailLength)
        var eocdIndex: Int?
        var i = tail.count - 22
        while i >= 0 {
            if tail[i] == 0x50, tail[i + 1] == 0x4b, tail[i + 2] == 5, tail[i + 3] == 6 { eocdIndex = i; break }
            i -= 1
        }
        guard let eocd = eocdIndex else {
            throw ScanInputError(input: name, reason: "truncated or not a zip archive (no end of central directory record)")
        }
        var r = LittleEndianReader(tail, at: eocd + 4)
        guard let disk = r.u16(), let cdDisk = r.u16(), r.skip(2), let total16 = r.u16(),
              let cdSize32 = r.u32(), let cdOffset32 = r.u32() else {
            throw ScanInputError(input: name, reason: "truncated end of central directory record")
        }
        var entryCount = Int(total16)
        var cdSize = Int(cdSize32)
        var cdOffset = Int(cdOffset32)
        if disk != 0 && disk != 0xFFFF || cdDisk != 0 && cdDisk != 0xFFFF {
            throw ScanInputError(input: name, reason: "multi-volume (split) zip archives are not supported")
        }
        let eocdAbsolute = tailStart + eocd
        // Zip64: a locator 20 bytes before the end record.
        if total16 == 0xFFFF || cdSize32 == 0xFFFF_FFFF || cdOffset32 == 0xFFFF_FFFF, eocdAbsolute >= 20 {
            let locator = try source.read(at: eocdAbsolute - 20, count: 20)
            var l = LittleEndianReader(locator)
            if l.u32() == Self.zip64LocatorSignature, l.skip(4), let recordOffset = l.u64(),
               recordOffset < UInt64(size) {
                let record = try source.read(at: Int(recordOffset), count: 56)
                var z = LittleEndianReader(record)
                guard z.u32() == Self.zip64EOCDSignature, z.skip(8 + 2 + 2 + 4 + 4 + 8),
                      let total64 = z.u64(), let size64 = z.u64(), let offset64 = z.u64(),
                      total64 < UInt64(Int.max), size64 < UInt64(size), offset64 < UInt64(size) else {
                    throw ScanInputError(input: name, reason: "malformed zip64 end of central directory record")
                }
                entryCount = Int(total64)
                cdSize = Int(size64)
                cdOffset = Int(offset64)
            }
        }
        guard entryCount <= maxEntries else {
            throw ScanInputError(input: name, reason: "archive declares \(entryCount) entries, above the limit of \(maxEntries)")
        }
        guard cdOffset >= 0, cdSize >= 0, cdOffset + cdSize <= size else {
            throw ScanInputError(input: name, reason: "truncated: central directory (offset \(cdOffset), \(cdSize) bytes) lies beyond the end of the file (\(size) bytes)")
        }
        let directory = try source.read(at: cdOffset, count: cdSize)
        var entries: [ZipEntry] = []
        entries.reserveCapacity(min(entryCount, 100_000))
        var d = LittleEndianReader(directory)
        for index in 0..<entryCount {
            guard let entry = Self.parseCentralEntry(&d) else {
                throw ScanInputError(input: name, reason: "malformed central directory entry #\(index + 1) of \(entryCount)")
            }
            entries.append(entry)
        }
        self.entries = entries
    }

    private static func parseCentralEntry(_ d: inout LittleEndianReader) -> ZipEntry? {
        guard d.u32() == centralSignature, let madeBy = d.u16(), d.skip(2), let flags = d.u16(),
              let method = d.u16(), d.skip(4), let crc = d.u32(), let comp32 = d.u32(), let uncomp32 = d.u32(),
              let nameLength = d.u16(), let extraLength = d.u16(), let commentLength = d.u16(),
              d.skip(2), d.skip(2), let external = d.u32(), let offset32 = d.u32(),
              let nameBytes = d.take(Int(nameLength)), let extra = d.take(Int(extraLength)),
              d.skip(Int(commentLength)) else { return nil }
        var compressed = UInt64(comp32)
        var uncompressed = UInt64(uncomp32)
        var offset = UInt64(offset32)
        // Zip64 extended information extra field (0x0001): only the fields that overflowed, in order.
        var e = LittleEndianReader(extra)
        while e.remaining >= 4, let tag = e.u16(), let length = e.u16() {
            guard let body = e.take(Int(length)) else { return nil }
            if tag == 0x0001 {
                var z = LittleEndianReader(body)
                if uncomp32 == 0xFFFF_FFFF { guard let v = z.u64() else { return nil }; uncompressed = v }
                if comp32 == 0xFFFF_FFFF { guard let v = z.u64() else { return nil }; compressed = v }
                if offset32 == 0xFFFF_FFFF { guard let v = z.u64() else { return nil }; offset = v }
            }
        }
        let limit = UInt64(Int.max / 2)
        guard compressed < limit, uncompressed < limit, offset < limit else { return nil }
        let name = String(validating: nameBytes, as: UTF8.self)
            ?? String(nameBytes.map { Character(Unicode.Scalar($0)) })
        let hostSystem = madeBy >> 8
        // Unix (3) and macOS (19) store st_mode in the high 16 bits of the external attributes.
        let unixMode: UInt32? = (hostSystem == 3 || hostSystem == 19) && external >> 16 != 0 ? external >> 16 : nil
        return ZipEntry(name: name, method: method, flags: flags, crc32: crc,
                        compressedSize: Int(compressed), uncompressedSize: Int(uncompressed),
                        localHeaderOffset: Int(offset), unixMode: unixMode, dosDirectory: external & 0x10 != 0,
                        externalAttributes: external)
    }

    /// Offset of the entry's data (after its local header), validated against the archive size.
    public func dataOffset(of entry: ZipEntry) throws -> Int {
        let header = try source.read(at: entry.localHeaderOffset, count: 30)
        var r = LittleEndianReader(header)
        guard r.u32() == Self.localSignature, r.skip(22), let nameLength = r.u16(), let extraLength = r.u16() else {
            throw ScanInputError(input: "\(name)!/\(entry.name)", reason: "truncated or missing local file header at offset \(entry.localHeaderOffset)")
        }
        let start = entry.localHeaderOffset + 30 + Int(nameLength) + Int(extraLength)
        guard start + entry.compressedSize <= source.size else {
            throw ScanInputError(input: "\(name)!/\(entry.name)", reason: "truncated: entry data (\(entry.compressedSize) bytes at offset \(start)) runs past the end of the archive (\(source.size) bytes)")
        }
        return start
    }

    /// Entries whose data ranges overlap another entry's: the signature of "overlapping" zip bombs
    /// (one compressed stream referenced by many entries). Returns the names of the overlapping entries.
    public func overlappingEntries() -> [String] {
        let sorted = entries.filter { !$0.isDirectory || $0.compressedSize > 0 }
            .sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        var overlapping: [String] = []
        var previousEnd = -1
        for entry in sorted {
            if entry.localHeaderOffset < previousEnd { overlapping.append(entry.name) }
            // The local header is at least 30 bytes plus the name; the data follows it.
            previousEnd = max(previousEnd, entry.localHeaderOffset + 30 + entry.name.utf8.count + entry.compressedSize)
        }
        return overlapping
    }
}
