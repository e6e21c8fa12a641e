/// What the first bytes of a file say about it being executable content.
struct ExecutableFormat: Equatable, Sendable {
    enum Format: String, Sendable { case elf, macho, script }
    var format: Format
    var arch: String?
    /// `static` / `dynamic` for binaries.
    var linkage: String?
    var interpreter: String?

    /// Classifies `head` (the first bytes of a file, ideally ≥ 4 KiB). Nil when not executable content.
    /// Never traps on short or hostile input: every read is bounds-checked.
    static func detect(_ head: [UInt8]) -> ExecutableFormat? {
        if head.count >= 2, head[0] == 0x23, head[1] == 0x21 { return script(head) }
        if head.count >= 20, head[0] == 0x7F, head[1] == 0x45, head[2] == 0x4C, head[3] == 0x46 { return elf(head) }
        if head.count >= 28 { return macho(head) }
        return nil
    }

    private static func script(_ head: [UInt8]) -> ExecutableFormat? {
        var end = 2
        while end < head.count && end < 256 && head[end] != 0x0A && head[end] != 0x0D { end += 1 }
        let line = String(decoding: head[2..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        // `#!` followed by an absolute path: anything else (`#![feature]` in Rust) is not a shebang.
        guard line.hasPrefix("/") else { return nil }
        return ExecutableFormat(format: .script, interpreter: line)
    }

    private static func elf(_ head: [UInt8]) -> ExecutableFormat {
        let is64 = head[4] == 2
        let little = head[5] != 2
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= head.count else { return nil }
            return little ? Int(head[o]) | Int(head[o + 1]) << 8 : Int(head[o]) << 8 | Int(head[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        func u64(_ o: Int) -> Int? {
            guard let a = u32(o), let b = u32(o + 4), b < 0x7FFF_FFFF else { return nil }
            return little ? a | b << 32 : a << 32 | b
        }
        let machine = u16(18) ?? 0
        let arch: String
        switch machine {
        case 0x3E: arch = "x86_64"
        case 0xB7: arch = "aarch64"
        case 0x03: arch = "i386"
        case 0x28: arch = "arm"
        case 0xF3: arch = is64 ? "riscv64" : "riscv32"
        case 0x15: arch = is64 ? "ppc64" : "ppc"
        case 0x16: arch = "s390x"
        case 0x08: arch = "mips"
        default: arch = "elf-machine-\(machine)"
        }
        // Program headers: PT_INTERP (3) or PT_DYNAMIC (2) mean dynamically linked.
        let phoff = is64 ? u64(32) : u32(28)
        let phentsize = u16(is64 ? 54 : 42)
        let phnum = u16(is64 ? 56 : 44)
        var linkage: String?
        var interpreter: String?
        if let phoff, let phentsize, let phnum, phentsize >= (is64 ? 56 : 32), phnum < 4096 {
            var sawDynamic = false
            var sawAny = false
            for index in 0..<phnum {
                let o = phoff + index * phentsize
                guard let type = u32(o) else { break }
                sawAny = true
                if type == 2 { sawDynamic = true }
                if type == 3 {
                    sawDynamic = true
                    if let off = is64 ? u64(o + 8) : u32(o + 4), let size = is64 ? u64(o + 32) : u32(o + 16),
                       off >= 0, size > 1, size < 4096, off + size <= head.count {
                        interpreter = String(decoding: head[off..<(off + size - 1)], as: UTF8.self)
                    }
                }
            }
            if sawAny { linkage = sawDynamic ? "dynamic" : "static" }
        }
        return ExecutableFormat(format: .elf, arch: arch, linkage: linkage, interpreter: interpreter)
    }

    private static func macho(_ head: [UInt8]) -> ExecutableFormat? {
        let magicBE = UInt32(head[0]) << 24 | UInt32(head[1]) << 16 | UInt32(head[2]) << 8 | UInt32(head[3])
        switch magicBE {
        case 0xCAFEBABE:
            // Fat Mach-O and Java class files share this magic; a class file has a version ≥ 45 here.
            let count = UInt32(head[4]) << 24 | UInt32(head[5]) << 16 | UInt32(head[6]) << 8 | UInt32(head[7])
            guard count > 0 && count < 20 else { return nil }
            return ExecutableFormat(format: .macho, arch: "universal", linkage: nil)
        case 0xCFFAEDFE, 0xCEFAEDFE:
            break // little-endian 64/32-bit
        default:
            return nil
        }
        let is64 = head[0] == 0xCF
        func u32(_ o: Int) -> Int? {
            guard o >= 0, o + 4 <= head.count else { return nil }
            return Int(head[o]) | Int(head[o + 1]) << 8 | Int(head[o + 2]) << 16 | Int(head[o + 3]) << 24
        }
        let cpu = u32(4) ?? 0
        let arch: String
        switch cpu {
        case 0x0100_0007: arch = "x86_64"
        case 0x0100_000C: arch = "arm64"
        case 7: arch = "i386"
        case 12: arch = "arm"
        default: arch = "macho-cpu-\(cpu)"
        }
        var linkage: String?
        if let ncmds = u32(16), ncmds < 10_000 {
            var o = is64 ? 32 : 28
            var dynamic = false
            var complete = true
            for _ in 0..<ncmds {
                guard let cmd = u32(o), let size = u32(o + 4), size >= 8 else { complete = false; break }
                if cmd == 0xE || cmd == 0xC { dynamic = true } // LC_LOAD_DYLINKER, LC_LOAD_DYLIB
                o += size
            }
            if dynamic { linkage = "dynamic" } else if complete { linkage = "static" }
        }
        return ExecutableFormat(format: .macho, arch: arch, linkage: linkage)
    }
}
