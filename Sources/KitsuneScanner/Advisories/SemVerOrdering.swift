/// A parsed SemVer 2.0.0 version (npm, crates.io, OSV `SEMVER` ranges).
public struct SemanticVersion: Sendable, Equatable {
    public var major: Substring
    public var minor: Substring
    public var patch: Substring
    /// Dot-separated prerelease identifiers (empty for a release).
    public var prerelease: [Substring]
    public var build: Substring?

    /// Parses `1.2.3`, `1.2.3-rc.1+build.5`; a leading `v` or `=` is tolerated (npm and Go spellings).
    /// Missing minor/patch (`1`, `1.2`) are not SemVer and are rejected unless `lenient` is set,
    /// in which case they count as `.0`.
    public init?(_ text: String, lenient: Bool = false) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        if s.first == "v" || s.first == "=" { s = s.dropFirst() }
        var build: Substring?
        if let plus = s.firstIndex(of: "+") {
            build = s[s.index(after: plus)...]
            s = s[..<plus]
            guard let b = build, !b.isEmpty, b.split(separator: ".", omittingEmptySubsequences: false)
                    .allSatisfy({ !$0.isEmpty && $0.allSatisfy(SemanticVersion.isIdentifierChar) }) else { return nil }
        }
        var pre: [Substring] = []
        if let dash = s.firstIndex(of: "-") {
            let p = s[s.index(after: dash)...]
            s = s[..<dash]
            pre = p.split(separator: ".", omittingEmptySubsequences: false)
            guard pre.allSatisfy({ !$0.isEmpty && $0.allSatisfy(SemanticVersion.isIdentifierChar) }) else { return nil }
        }
        var core = s.split(separator: ".", omittingEmptySubsequences: false)
        guard core.allSatisfy(allDigits) else { return nil }
        if lenient { while core.count < 3 && !core.isEmpty { core.append("0") } }
        guard core.count == 3 else { return nil }
        major = core[0]; minor = core[1]; patch = core[2]
        prerelease = pre
        self.build = build
    }

    static func isIdentifierChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-")
    }

    /// SemVer §11 precedence (build metadata ignored).
    public func precedence(_ other: SemanticVersion) -> Int {
        for (a, b) in [(major, other.major), (minor, other.minor), (patch, other.patch)] {
            let c = compareDigitStrings(a, b)
            if c != 0 { return c }
        }
        switch (prerelease.isEmpty, other.prerelease.isEmpty) {
        case (true, true): return 0
        case (true, false): return 1
        case (false, true): return -1
        default: break
        }
        for (a, b) in zip(prerelease, other.prerelease) {
            let an = allDigits(a), bn = allDigits(b)
            let c: Int
            if an && bn { c = compareDigitStrings(a, b) } else if an { c = -1 } else if bn { c = 1 } else {
                c = a == b ? 0 : (Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) ? -1 : 1)
            }
            if c != 0 { return c }
        }
        if prerelease.count == other.prerelease.count { return 0 }
        return prerelease.count < other.prerelease.count ? -1 : 1
    }
}

/// SemVer 2.0.0 ordering (npm, crates.io, OSV `SEMVER`).
public struct SemVerOrdering: VersionOrdering {
    public init() {}
    public func compare(_ lhs: String, _ rhs: String) -> Int? {
        guard let a = SemanticVersion(lhs), let b = SemanticVersion(rhs) else { return nil }
        return a.precedence(b)
    }
}

/// Go module versions: SemVer with a `v` prefix. Pseudo-versions (`v0.0.0-20210101000000-abcdef123456`,
/// `v1.2.4-0.2021…`) are SemVer prereleases and so sort before their base release; `+incompatible`
/// is build metadata and ignored. OSV Go advisories write versions without the `v`.
public struct GoVersionOrdering: VersionOrdering {
    public init() {}
    public func compare(_ lhs: String, _ rhs: String) -> Int? {
        guard let a = SemanticVersion(Self.strip(lhs)), let b = SemanticVersion(Self.strip(rhs)) else { return nil }
        return a.precedence(b)
    }

    /// Drops `v` and the `go` prefix used by toolchain versions (`go1.21.3` → `1.21.3`, `go1.21` → `1.21.0`).
    static func strip(_ v: String) -> String {
        var s = v
        if s.hasPrefix("go") {
            s.removeFirst(2)
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2 { s += ".0" }
        }
        return s
    }
}

/// Composer (Packagist) and other "mostly SemVer" ecosystems: a leading `v`, missing minor/patch
/// (`1.2` = `1.2.0`) are tolerated, prerelease labels compare case-insensitively; otherwise SemVer precedence.
public struct LooseSemVerOrdering: VersionOrdering {
    public init() {}
    public func compare(_ lhs: String, _ rhs: String) -> Int? {
        // Composer stabilities are case-insensitive (`RC1` = `rc1`, after `beta2`).
        guard let a = SemanticVersion(lhs.lowercased(), lenient: true), let b = SemanticVersion(rhs.lowercased(), lenient: true)
        else { return nil }
        return a.precedence(b)
    }
}
