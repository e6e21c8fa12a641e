import Foundation

/// Why an image or one of its archives was refused. The message names the input and what is wrong.
public struct ContainerError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One entry of a tar archive (ustar, with GNU long names and pax `path`/`linkpath`/`size` records).
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, directory, symlink, hardlink, other }

    /// Normalized relative path (`usr/bin/ls`): no leading `/` or `./`, no `.` or `..` components.
    public var path: String
    public var kind: Kind
    /// Permission bits (`0o7777`).
    public var mode: UInt32
    public var size: Int
    /// Symlink target as written, or the normalized path a hard link refers to.
    public var linkTarget: String
    /// Byte range of the contents inside the archive.
    public var dataOffset: Int

    public init(path: String, kind: Kind, mode: UInt32, size: Int = 0, linkTarget: String = "", dataOffset: Int = 0) {
        self.path = path; self.kind = kind; self.mode = mode; self.size = size
        self.linkTarget = linkTarget; self.dataOffset = dataOffset
    }
}

/// Reads a tar archive held in memory. Hostile input is refused with an error naming the archive and
/// the entry: `..` components, absolute paths, sizes beyond the archive, bad checksums, NUL bytes.
public enum TarReader {
    /// Entries in archive order. `name` is used in error messages.
    public static func entries(_ bytes: [UInt8], name: String, maxEntries: Int = 1_000_000) throws -> [TarEntry] {
        var out: [TarEntry] = []
        var offset = 0
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { return out }
            guard checksumMatches(header) else {
                throw ContainerError("\(name): corrupt tar header at byte \(offset) (checksum mismatch)")
            }
            let type = header[header.startIndex + 156]
            guard let size = octal(header, 124, 12) else {
                throw ContainerError("\(name): corrupt tar header at byte \(offset) (size field)")
            }
            let dataOffset = offset + 512
            let padded = (size + 511) / 512 * 512
            guard size >= 0, dataOffset + size <= bytes.count else {
                throw ContainerError("\(name): entry at byte \(offset) declares \(size) bytes, beyond the end of the archive (\(bytes.count) bytes)")
            }
            offset = dataOffset + padded
            let data = { String(decoding: bytes[dataOffset..<dataOffset + size].prefix { $0 != 0 }, as: UTF8.self) }
            switch type {
            case UInt8(ascii: "L"): longName = data(); continue
            case UInt8(ascii: "K"): longLink = data(); continue
            case UInt8(ascii: "x"): pax = parsePax(Array(bytes[dataOffset..<dataOffset + size])); continue
            case UInt8(ascii: "g"): continue
            default: break
            }
            var rawPath = longName ?? pax["path"] ?? ustarName(header)
            var rawLink = longLink ?? pax["linkpath"] ?? field(header, 157, 100)
            var entrySize = size
            if let s = pax["size"] {
                guard let v = Int(s), v >= 0, dataOffset + v <= bytes.count else {
                    throw ContainerError("\(name): entry \(rawPath) declares a pax size of \(s) bytes, beyond the end of the archive")
                }
                entrySize = v
                offset = dataOffset + (v + 511) / 512 * 512
            }
            longName = nil; longLink = nil; pax = [:]
            if rawPath.contains("\0") || rawLink.contains("\0") { throw ContainerError("\(name): entry name holds a NUL byte") }
            let kind: TarEntry.Kind
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = rawPath.hasSuffix("/") ? .directory : .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "2"): kind = .symlink
            case UInt8(ascii: "1"): kind = .hardlink
            default: kind = .other
            }
            if kind != .file { entrySize = 0 }
            rawPath = try normalize(rawPath, archive: name, what: "entry")
            if kind == .hardlink { rawLink = try normalize(rawLink, archive: name, what: "hard link target of \(rawPath)") }
            if rawPath.isEmpty && kind != .directory { throw ContainerError("\(name): an entry has an empty name") }
            guard out.count < maxEntries else { throw ContainerError("\(name): more than \(maxEntries) entries; refusing") }
            out.append(TarEntry(path: rawPath, kind: kind, mode: UInt32(octal(header, 100, 8) ?? 0) & 0o7777, size: entrySize,
                                linkTarget: rawLink, dataOffset: dataOffset))
        }
        if offset < bytes.count || !out.isEmpty || bytes.isEmpty { return out }
        throw ContainerError("\(name): not a tar archive")
    }

    /// `./usr//bin/` → `usr/bin`. Absolute paths and `..` components are refused: an image layer
    /// never needs them, and an extractor that honoured them would write outside the root.
    public static func normalize(_ raw: String, archive: String, what: String) throws -> String {
        if raw.hasPrefix("/") { throw ContainerError("\(archive): \(what) \(raw) is an absolute path; refusing") }
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw ContainerError("\(archive): \(what) \(raw) has a .. component; refusing") }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    static func checksumMatches(_ h: ArraySlice<UInt8>) -> Bool {
        guard let stored = octal(h, 148, 8) else { return false }
        var sum = 0
        for (i, b) in h.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        return sum == stored
    }

    static func field(_ h: ArraySlice<UInt8>, _ at: Int, _ len: Int) -> String {
        let s = h.startIndex + at
        return String(decoding: h[s..<s + len].prefix { $0 != 0 }, as: UTF8.self)
    }

    static func ustarName(_ h: ArraySlice<UInt8>) -> String {
        let name = field(h, 0, 100)
        guard field(h, 257, 5) == "ustar" else { return name }
        let prefix = field(h, 345, 155)
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// An octal field, or a base-256 number (GNU, high bit set).
    static func octal(_ h: ArraySlice<UInt8>, _ at: Int, _ len: Int) -> Int? {
        let s = h.startIndex + at
        let bytes = h[s..<s + len]
        if let first = bytes.first, first & 0x80 != 0 {
            var v = 0
            for (i, b) in bytes.enumerated() {
                let byte = i == 0 ? Int(b & 0x7F) : Int(b)
                guard v < Int.max >> 9 else { return nil }
                v = v << 8 | byte
            }
            return v
        }
        var v = 0
        var seen = false
        for b in bytes {
            if b == 0 || b == 32 { if seen { break } else { continue } }
            guard b >= 48 && b <= 55, v < Int.max >> 4 else { return nil }
            v = v * 8 + Int(b - 48)
            seen = true
        }
        return v
    }

    static func parsePax(_ data: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < data.count {
            guard let space = data[i...].firstIndex(of: 32), let len = Int(String(decoding: data[i..<space], as: UTF8.self)),
                  len > 0, i + len <= data.count else { break }
            let record = data[(space + 1)..<(i + len - 1)]
            if let eq = record.firstIndex(of: 61) {
                out[String(decoding: record[record.startIndex..<eq], as: UTF8.self)] = String(decoding: record[(eq + 1)...], as: UTF8.self)
            }
            i += len
        }
        return out
    }
}

/// Writes a deterministic tar archive: owner root, mtime 0, entries in the order given; long names
/// through pax records.
public struct TarWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func directory(_ path: String, mode: UInt32 = 0o755) {
        header(path.hasSuffix("/") ? path : path + "/", type: UInt8(ascii: "5"), mode: mode, size: 0, link: "")
    }

    public mutating func file(_ path: String, contents: [UInt8], mode: UInt32 = 0o644) {
        header(path, type: UInt8(ascii: "0"), mode: mode, size: contents.count, link: "")
        bytes += contents
        pad()
    }

    public mutating func symlink(_ path: String, target: String) {
        header(path, type: UInt8(ascii: "2"), mode: 0o777, size: 0, link: target)
    }

    /// Two zero blocks end the archive.
    public mutating func finish() -> [UInt8] {
        bytes += [UInt8](repeating: 0, count: 1024)
        return bytes
    }

    mutating func pad() {
        let r = bytes.count % 512
        if r != 0 { bytes += [UInt8](repeating: 0, count: 512 - r) }
    }

    /// A raw entry header (hard links, special files); contents, if any, are the caller's.
    public mutating func header(_ path: String, type: UInt8, mode: UInt32, size: Int, link: String) {
        if path.utf8.count > 99 || link.utf8.count > 99 {
            var records: [UInt8] = []
            if path.utf8.count > 99 { records += Self.paxRecord("path", path) }
            if link.utf8.count > 99 { records += Self.paxRecord("linkpath", link) }
            rawHeader("PaxHeaders/entry", type: UInt8(ascii: "x"), mode: 0o644, size: records.count, link: "")
            bytes += records
            pad()
        }
        rawHeader(String(path.utf8.prefix(99))!, type: type, mode: mode, size: size, link: String(link.utf8.prefix(99))!)
    }

    mutating func rawHeader(_ name: String, type: UInt8, mode: UInt32, size: Int, link: String) {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { for (i, b) in s.utf8.enumerated() { h[at + i] = b } }
        func octal(_ v: Int, _ at: Int, _ width: Int) { put(String(repeating: "0", count: max(0, width - 1 - String(v, radix: 8).count)) + String(v, radix: 8), at) }
        put(name, 0)
        octal(Int(mode), 100, 8); octal(0, 108, 8); octal(0, 116, 8)
        octal(size, 124, 12); octal(0, 136, 12)
        h[156] = type
        put(link, 157)
        put("ustar", 257); h[262] = 0; put("00", 263)
        for i in 148..<156 { h[i] = 32 }
        let sum = h.reduce(0) { $0 + Int($1) }
        octal(sum, 148, 7)
        h[155] = 32
        bytes += h
    }

    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length = String(length).count + body.utf8.count }
        return Array((String(length) + body).utf8)
    }
}
