/// Version ordering per package ecosystem, used to evaluate OSV `ECOSYSTEM` and `SEMVER` ranges.
///
/// Every ordering parses both sides and returns `nil` when either version cannot be parsed in that
/// ecosystem's grammar: callers must then treat the comparison as unknown, never as "not affected".
public protocol VersionOrdering: Sendable {
    /// `-1`, `0` or `1` as `lhs` sorts before, equal to, or after `rhs`; `nil` if either is unparseable.
    func compare(_ lhs: String, _ rhs: String) -> Int?
}

/// The orderings Kitsune knows, by name (the `ordering` field of `Advisories/Data/ecosystems.json`).
public enum VersionOrderings {
    /// The ordering for an ordering name from the ecosystem table (`semver`, `pep440`, `go`, `maven`,
    /// `rubygems`, `cargo`), or `nil` when the name is unknown.
    public static func named(_ name: String) -> (any VersionOrdering)? {
        switch name {
        case "semver", "npm", "cargo": return SemVerOrdering()
        case "semver-loose": return LooseSemVerOrdering()
        case "go": return GoVersionOrdering()
        case "pep440": return PEP440Ordering()
        case "maven": return MavenVersionOrdering()
        case "rubygems": return RubyGemsVersionOrdering()
        default: return nil
        }
    }
}

/// Compares two strings of ASCII digits numerically without overflow (leading zeros ignored).
func compareDigitStrings(_ a: Substring, _ b: Substring) -> Int {
    let x = a.drop(while: { $0 == "0" }), y = b.drop(while: { $0 == "0" })
    if x.count != y.count { return x.count < y.count ? -1 : 1 }
    if x == y { return 0 }
    return x < y ? -1 : 1
}

func isASCIIDigit(_ c: Character) -> Bool { c >= "0" && c <= "9" }

func allDigits<S: StringProtocol>(_ s: S) -> Bool { !s.isEmpty && s.allSatisfy(isASCIIDigit) }
