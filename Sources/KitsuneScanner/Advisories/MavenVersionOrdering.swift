/// Maven version ordering with the semantics of Maven's `ComparableVersion`: items split on `.`, `-`
/// and digit/letter transitions, numeric items compared numerically, trailing "null" items (`0`, `""`,
/// `final`, `ga`, `release`) dropped, and qualifiers ordered
/// `alpha < beta < milestone < rc (= cr) < snapshot < "" (release) < sp < other (lexically)`.
public struct MavenVersionOrdering: VersionOrdering {
    public init() {}

    public func compare(_ lhs: String, _ rhs: String) -> Int? {
        let a = lhs.trimmingCharacters(in: .whitespaces), b = rhs.trimmingCharacters(in: .whitespaces)
        guard !a.isEmpty, !b.isEmpty else { return nil }
        return MavenItem.list(Self.parse(a)).compare(.list(Self.parse(b)))
    }

    static func parse(_ version: String) -> [MavenItem] {
        let chars = Array(version.lowercased())
        // A stack of lists; `path` holds the open lists from the root, appended on close.
        var stack: [[MavenItem]] = [[]]
        var isDigit = false
        var start = 0
        func item(_ digit: Bool, _ s: String, followedByDigit: Bool = false) -> MavenItem {
            digit ? .int(s) : .string(MavenItem.qualifier(s, followedByDigit: followedByDigit))
        }
        func openSublist() { stack.append([]) }
        for (i, c) in chars.enumerated() {
            if c == "." {
                stack[stack.count - 1].append(i == start ? .int("0") : item(isDigit, String(chars[start..<i])))
                start = i + 1
            } else if c == "-" {
                stack[stack.count - 1].append(i == start ? .int("0") : item(isDigit, String(chars[start..<i])))
                start = i + 1
                openSublist()
            } else if c.isASCII && c.isNumber {
                if !isDigit && i > start {
                    stack[stack.count - 1].append(item(false, String(chars[start..<i]), followedByDigit: true))
                    start = i
                    openSublist()
                }
                isDigit = true
            } else {
                if isDigit && i > start {
                    stack[stack.count - 1].append(item(true, String(chars[start..<i])))
                    start = i
                    openSublist()
                }
                isDigit = false
            }
        }
        if chars.count > start {
            // A trailing string qualifier after `.` is treated like one after `-` (1.0.0.X1 < 1.0.0-X2).
            if !isDigit && !stack[stack.count - 1].isEmpty { openSublist() }
            stack[stack.count - 1].append(item(isDigit, String(chars[start...])))
        }
        // Close lists innermost first, normalizing each, and nest them into their parents.
        while stack.count > 1 {
            let inner = MavenItem.normalize(stack.removeLast())
            stack[stack.count - 1].append(.list(inner))
        }
        return MavenItem.normalize(stack[0])
    }
}

indirect enum MavenItem: Sendable {
    case int(String)       // digits, leading zeros stripped
    case string(String)    // qualifier after aliasing
    case list([MavenItem])

    static let qualifiers = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
    static let releaseIndex = "5"

    static func qualifier(_ raw: String, followedByDigit: Bool) -> String {
        var s = raw
        if followedByDigit && s.count == 1 {
            switch s { case "a": s = "alpha"; case "b": s = "beta"; case "m": s = "milestone"; default: break }
        }
        switch s { case "ga", "final", "release": return ""; case "cr": return "rc"; default: return s }
    }

    static func comparable(_ q: String) -> String {
        if let i = qualifiers.firstIndex(of: q) { return String(i) }
        return "\(qualifiers.count)-\(q)"
    }

    var isNull: Bool {
        switch self {
        case .int(let s): return s.allSatisfy { $0 == "0" }
        case .string(let s): return s.isEmpty
        case .list(let l): return l.isEmpty
        }
    }

    static func normalize(_ items: [MavenItem]) -> [MavenItem] {
        var l = items
        var i = l.count - 1
        while i >= 0 {
            if l[i].isNull { l.remove(at: i) } else if case .list = l[i] {} else { break }
            i -= 1
        }
        return l
    }

    /// Compares with another item, `nil` standing for a missing item.
    func compare(_ other: MavenItem?) -> Int {
        switch self {
        case .int(let a):
            guard let other else { return isNull ? 0 : 1 }
            if case .int(let b) = other { return compareDigitStrings(Substring(a), Substring(b)) }
            return 1
        case .string(let a):
            guard let other else { return Self.order(Self.comparable(a), Self.releaseIndex) }
            switch other {
            case .int: return -1
            case .string(let b): return Self.order(Self.comparable(a), Self.comparable(b))
            case .list: return -1
            }
        case .list(let a):
            guard let other else {
                guard let first = a.first else { return 0 }
                return first.compare(nil)
            }
            switch other {
            case .int: return -1
            case .string: return 1
            case .list(let b):
                for i in 0..<max(a.count, b.count) {
                    let l: MavenItem? = i < a.count ? a[i] : nil, r: MavenItem? = i < b.count ? b[i] : nil
                    let c: Int
                    if let l { c = l.compare(r) } else if let r { c = -r.compare(nil) } else { c = 0 }
                    if c != 0 { return c }
                }
                return 0
            }
        }
    }

    static func order(_ a: String, _ b: String) -> Int { a == b ? 0 : (a < b ? -1 : 1) }
}
