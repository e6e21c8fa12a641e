import Foundation
import KitsuneFindings

/// Go binaries (ELF, Mach-O, PE): the module information the Go linker embeds after the
/// `\xff Go buildinf:` magic. Go ≥ 1.18 stores the version and module strings inline as
/// varint-length-prefixed strings (flag bit 2); older binaries store two pointers to Go string
/// headers, resolved here through the ELF program headers. Yields the main module (when it has a
/// release version), every `dep` (with `=>` replacements applied) and the Go standard library
/// (`stdlib`) at the toolchain version.
struct GoBinaryCataloger: PackageCataloger {
    var source: PackageSource { .binary }

    static let magic: [UInt8] = [0xFF] + Array(" Go buildinf:".utf8)

    func accepts(path: String, header: [UInt8]) -> Bool {
        if header.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return true }                 // ELF
        if header.starts(with: [0x4D, 0x5A]) { return true }                             // PE
        let m = header.prefix(4)
        return [[0xCF, 0xFA, 0xED, 0xFE], [0xCE, 0xFA, 0xED, 0xFE], [0xFE, 0xED, 0xFA, 0xCF]].contains { m.elementsEqual($0) }
    }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        let b = entry.bytes
        guard let start = Self.find(Self.magic, in: b) else { return ctx.result }  // not a Go binary
        guard let info = Self.buildInfo(b, at: start) else {
            ctx.problem(line: nil, "Go build information at offset \(start) is truncated or corrupt")
            return ctx.result
        }
        if info.goVersion.hasPrefix("go"), !info.goVersion.contains("devel") {
            let v = String(info.goVersion.dropFirst(2).prefix { !$0.isWhitespace })
            ctx.add("Go", "stdlib", GoVersionOrdering.strip("go" + v))
        }
        for m in Self.modules(info.modInfo) { ctx.add("Go", m.path, m.version) }
        return ctx.result
    }

    struct BuildInfo { var goVersion: String; var modInfo: String }

    /// The Go linker aligns the build info blob to 16 bytes (as `debug/buildinfo` assumes), so only
    /// aligned offsets are tested.
    static func find(_ needle: [UInt8], in hay: [UInt8], alignment: Int = 16) -> Int? {
        guard hay.count >= needle.count, let first = needle.first else { return nil }
        return hay.withUnsafeBufferPointer { buf -> Int? in
            var i = 0
            let last = buf.count - needle.count
            while i <= last {
                if buf[i] == first, buf[i..<(i + needle.count)].elementsEqual(needle) { return i }
                i += alignment
            }
            return nil
        }
    }

    static func buildInfo(_ b: [UInt8], at start: Int) -> BuildInfo? {
        guard start + 32 <= b.count else { return nil }
        let ptrSize = Int(b[start + 14]), flags = b[start + 15]
        if flags & 2 != 0 {
            var p = start + 32
            guard let version = varintString(b, &p), let mod = varintString(b, &p) else { return nil }
            return BuildInfo(goVersion: version, modInfo: stripSentinels(mod))
        }
        guard ptrSize == 4 || ptrSize == 8 else { return nil }
        let bigEndian = flags & 1 != 0
        guard let elf = ELFAddressMap(b),
              let vAddr = readUInt(b, start + 16, ptrSize, bigEndian), let mAddr = readUInt(b, start + 16 + ptrSize, ptrSize, bigEndian),
              let version = goString(b, elf, vAddr, ptrSize, bigEndian), let mod = goString(b, elf, mAddr, ptrSize, bigEndian)
        else { return nil }
        return BuildInfo(goVersion: version, modInfo: stripSentinels(mod))
    }

    static func varintString(_ b: [UInt8], _ p: inout Int) -> String? {
        var n = 0, shift = 0
        while true {
            guard p < b.count, shift < 63 else { return nil }
            let byte = b[p]; p += 1
            n |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard n >= 0, n <= b.count - p else { return nil }
        defer { p += n }
        return String(decoding: b[p..<(p + n)], as: UTF8.self)
    }

    static func readUInt(_ b: [UInt8], _ off: Int, _ size: Int, _ bigEndian: Bool) -> Int? {
        guard off >= 0, size <= 8, off + size <= b.count else { return nil }
        var v: UInt64 = 0
        for i in 0..<size {
            let byte = UInt64(b[off + (bigEndian ? i : size - 1 - i)])
            v = v << 8 | byte
        }
        return v > UInt64(Int.max) ? nil : Int(v)
    }

    static func goString(_ b: [UInt8], _ elf: ELFAddressMap, _ addr: Int, _ ptrSize: Int, _ be: Bool) -> String? {
        guard let h = elf.offset(of: addr), let data = readUInt(b, h, ptrSize, be), let len = readUInt(b, h + ptrSize, ptrSize, be),
              len <= 1 << 24, let off = elf.offset(of: data), off + len <= b.count else { return nil }
        return String(decoding: b[off..<(off + len)], as: UTF8.self)
    }

    /// The module info string is wrapped in two 16-byte sentinels.
    static func stripSentinels(_ s: String) -> String {
        let u = Array(s.utf8)
        guard u.count >= 33, u[u.count - 17] == 0x0A else { return s }
        return String(decoding: u[16..<(u.count - 16)], as: UTF8.self)
    }

    static func modules(_ modInfo: String) -> [(path: String, version: String)] {
        var out: [(path: String, version: String)] = []
        var lastWasDep = false
        for line in modInfo.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3 else { lastWasDep = false; continue }
            switch f[0] {
            case "mod":
                if f[2] != "(devel)" && !f[2].isEmpty { out.append((f[1], f[2])) }
                lastWasDep = false
            case "dep":
                out.append((f[1], f[2])); lastWasDep = true
            case "=>":
                if lastWasDep, !out.isEmpty {
                    let local = f[1].hasPrefix(".") || f[1].hasPrefix("/")
                    if local || f[2].isEmpty { out.removeLast() } else { out[out.count - 1] = (f[1], f[2]) }
                }
                lastWasDep = false
            default: lastWasDep = false
            }
        }
        return out
    }
}

/// Virtual address → file offset through an ELF file's `PT_LOAD` program headers (32/64-bit, either endianness).
struct ELFAddressMap {
    var segments: [(vaddr: Int, offset: Int, size: Int)] = []

    init?(_ b: [UInt8]) {
        guard b.count >= 52, b.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { return nil }
        let is64 = b[4] == 2, be = b[5] == 2
        let r = { (o: Int, s: Int) in GoBinaryCataloger.readUInt(b, o, s, be) }
        guard let phoff = is64 ? r(0x20, 8) : r(0x1C, 4), let phentsize = is64 ? r(0x36, 2) : r(0x2A, 2),
              let phnum = is64 ? r(0x38, 2) : r(0x2C, 2), phentsize >= (is64 ? 56 : 32), phoff < b.count else { return nil }
        for i in 0..<phnum {
            let p = phoff + i * phentsize
            guard let type = r(p, 4), type == 1 else { continue }
            let fields = is64 ? (r(p + 8, 8), r(p + 16, 8), r(p + 32, 8)) : (r(p + 4, 4), r(p + 8, 4), r(p + 16, 4))
            guard let off = fields.0, let vaddr = fields.1, let size = fields.2 else { return nil }
            // Only the part of a segment that lies inside the file can be read.
            guard off < b.count else { continue }
            segments.append((vaddr, off, min(size, b.count - off)))
        }
    }

    func offset(of addr: Int) -> Int? {
        for s in segments where addr >= s.vaddr && addr - s.vaddr < s.size { return s.offset + (addr - s.vaddr) }
        return nil
    }
}
