/// A version parsed per PEP 440 (the packaging `Version` grammar, with its normalizations:
/// case, leading `v`, `alpha`/`beta`/`c`/`pre`/`preview` spellings, `-`/`_`/`.` separators, implicit
/// numbers, `rev`/`r`/`-N` post releases).
public struct PEP440Version: Sendable, Equatable {
    public var epoch: Int
    /// Release segments with trailing zeros removed (so `1.0` == `1`).
    public var release: [Int]
    /// `a`, `b` or `rc` with its number.
    public var pre: (kind: Int, number: Int)?
    public var post: Int?
    public var dev: Int?
    public var local: [Substring]

    public static func == (l: PEP440Version, r: PEP440Version) -> Bool { l.compare(r) == 0 }

    public init?(_ text: String) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        if s.first == "v" { s = s.dropFirst() }
        func digits() -> Int? {
            let d = s.prefix(while: isASCIIDigit)
            guard !d.isEmpty, d.count <= 18, let n = Int(d) else { return nil }
            s = s.dropFirst(d.count)
            return n
        }
        func sep() { if let c = s.first, c == "." || c == "-" || c == "_" { s = s.dropFirst() } }
        func word(_ options: [String]) -> String? {
            for o in options where s.hasPrefix(o) { s = s.dropFirst(o.count); return o }
            return nil
        }
        // epoch
        epoch = 0
        if let bang = s.firstIndex(of: "!") {
            guard let e = Int(s[..<bang]), e >= 0 else { return nil }
            epoch = e
            s = s[s.index(after: bang)...]
        }
        var rel: [Int] = []
        guard let first = digits() else { return nil }
        rel.append(first)
        while s.first == ".", s.dropFirst().first.map(isASCIIDigit) == true {
            s = s.dropFirst()
            guard let n = digits() else { return nil }
            rel.append(n)
        }
        while rel.count > 1 && rel.last == 0 { rel.removeLast() }
        if rel == [0] { rel = [] }
        release = rel
        // pre-release
        pre = nil
        var probe = s
        sep()
        if let w = word(["alpha", "a", "beta", "b", "preview", "pre", "rc", "c"]) {
            let kind = (w == "alpha" || w == "a") ? 0 : (w == "beta" || w == "b") ? 1 : 2
            probe = s; sep()
            if let n = digits() { pre = (kind, n) } else { s = probe; pre = (kind, 0) }
        } else { s = probe }
        // post-release
        post = nil
        probe = s
        if s.first == "-", s.dropFirst().first.map(isASCIIDigit) == true {
            s = s.dropFirst()
            post = digits()
        } else {
            sep()
            if word(["post", "rev", "r"]) != nil {
                probe = s; sep()
                if let n = digits() { post = n } else { s = probe; post = 0 }
            } else { s = probe }
        }
        // dev release
        dev = nil
        probe = s
        sep()
        if word(["dev"]) != nil {
            probe = s; sep()
            if let n = digits() { dev = n } else { s = probe; dev = 0 }
        } else { s = probe }
        // local version
        local = []
        if s.first == "+" {
            let l = s.dropFirst()
            let parts = l.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "-" || $0 == "_" })
            guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
            else { return nil }
            local = parts
            s = s[s.endIndex...]
        }
        guard s.isEmpty else { return nil }
    }

    /// Total order of PEP 440 (as implemented by `packaging.version`).
    public func compare(_ o: PEP440Version) -> Int {
        if epoch != o.epoch { return epoch < o.epoch ? -1 : 1 }
        for i in 0..<max(release.count, o.release.count) {
            let a = i < release.count ? release[i] : 0, b = i < o.release.count ? o.release[i] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        // Pre-release key: a dev-only release sorts before any pre-release; no pre sorts after.
        func preKey(_ v: PEP440Version) -> (Int, Int, Int) {
            if let p = v.pre { return (1, p.kind, p.number) }
            if v.post == nil && v.dev != nil { return (0, 0, 0) }
            return (2, 0, 0)
        }
        let pa = preKey(self), pb = preKey(o)
        if pa != pb { return pa < pb ? -1 : 1 }
        let qa = post.map { $0 + 1 } ?? 0, qb = o.post.map { $0 + 1 } ?? 0
        if qa != qb { return qa < qb ? -1 : 1 }
        let da = dev ?? Int.max, db = o.dev ?? Int.max
        if da != db { return da < db ? -1 : 1 }
        // Local: absent < present; numeric segments > alphanumeric; shorter prefix sorts first.
        if local.isEmpty != o.local.isEmpty { return local.isEmpty ? -1 : 1 }
        for (a, b) in zip(local, o.local) {
            let an = allDigits(a), bn = allDigits(b)
            let c: Int
            if an && bn { c = compareDigitStrings(a, b) } else if an { c = 1 } else if bn { c = -1 } else {
                c = a == b ? 0 : (a < b ? -1 : 1)
            }
            if c != 0 { return c }
        }
        return local.count == o.local.count ? 0 : (local.count < o.local.count ? -1 : 1)
    }
}

/// PEP 440 ordering (PyPI).
public struct PEP440Ordering: VersionOrdering {
    public init() {}
    public func compare(_ lhs: String, _ rhs: String) -> Int? {
        guard let a = PEP440Version(lhs), let b = PEP440Version(rhs) else { return nil }
        return a.compare(b)
    }
}
