// Just enough ELF and shebang reading to know what else the kernel must be allowed to execute for a
// given file: its program interpreter (PT_INTERP) or its `#!` interpreter.

/// The interpreter the kernel loads to run the file at `path`, if any.
func programInterpreter(of path: Bytes) -> Bytes? {
    let (head, _) = readFile(path, limit: 4 << 20)
    guard let data = head, data.count >= 4 else {
        return nil
    }
    if data[0] == 35 && data[1] == 33 {            // "#!"
        var i = 2
        while i < data.count && (data[i] == 32 || data[i] == 9) { i += 1 }
        var j = i
        while j < data.count && data[j] != 32 && data[j] != 9 && data[j] != 10 { j += 1 }
        return j > i ? Bytes(data[i..<j]) : nil
    }
    guard data.count >= 64, data[0] == 0x7F, data[1] == 0x45, data[2] == 0x4C, data[3] == 0x46,
          data[4] == 2, data[5] == 1 else { return nil } // 64-bit little-endian only
    func u16(_ o: Int) -> Int { o + 2 <= data.count ? Int(data[o]) | Int(data[o + 1]) << 8 : 0 }
    func u64(_ o: Int) -> Int {
        guard o + 8 <= data.count else { return 0 }
        var v = 0
        for k in 0..<8 { v |= Int(data[o + k]) << (8 * k) }
        return v
    }
    let phoff = u64(32), phentsize = u16(54), phnum = u16(56)
    guard phentsize >= 56, phnum < 256 else { return nil }
    for n in 0..<phnum {
        let ph = phoff + n * phentsize
        guard ph + 56 <= data.count else { return nil }
        if u16(ph) == 3 && data[ph + 2] == 0 && data[ph + 3] == 0 {   // PT_INTERP
            let off = u64(ph + 8), size = u64(ph + 32)
            guard off >= 0, size > 1, size < 4096, off + size <= data.count else { return nil }
            return Bytes(data[off..<(off + size - 1)])
        }
    }
    return nil
}
