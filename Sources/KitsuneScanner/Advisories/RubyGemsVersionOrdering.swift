/// RubyGems ordering (`Gem::Version#<=>`): segments are runs of digits or letters, a `-` means
/// `.pre.`, any letter segment makes a prerelease (sorting before the release), and trailing zero
/// segments of the release and of the prerelease part are ignored (`1.0` == `1`).
public struct RubyGemsVersionOrdering: VersionOrdering {
    public init() {}

    enum Segment: Equatable { case number(Substring), word(Substring) }

    static func segments(_ text: String) -> [Segment]? {
        let s = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: ".pre.")
        guard let f = s.first, isASCIIDigit(f),
              s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") }) else { return nil }
        var out: [Segment] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "." { i = s.index(after: i); continue }
            let digit = isASCIIDigit(c)
            var j = i
            while j < s.endIndex, s[j] != ".", isASCIIDigit(s[j]) == digit { j = s.index(after: j) }
            out.append(digit ? .number(s[i..<j]) : .word(s[i..<j]))
            i = j
        }
        // canonical segments: drop trailing zeros of the release part and of the prerelease part
        let split = out.firstIndex(where: { if case .word = $0 { return true } else { return false } }) ?? out.count
        func trimZeros(_ a: [Segment]) -> [Segment] {
            var a = a
            while let last = a.last, case .number(let n) = last, n.allSatisfy({ $0 == "0" }) { a.removeLast() }
            return a
        }
        return trimZeros(Array(out[..<split])) + trimZeros(Array(out[split...]))
    }

    public func compare(_ lhs: String, _ rhs: String) -> Int? {
        guard let a = Self.segments(lhs), let b = Self.segments(rhs) else { return nil }
        for i in 0..<max(a.count, b.count) {
            let l = i < a.count ? a[i] : .number("0"), r = i < b.count ? b[i] : .number("0")
            switch (l, r) {
            case (.number(let x), .number(let y)):
                let c = compareDigitStrings(x, y); if c != 0 { return c }
            case (.word(let x), .word(let y)):
                if x != y { return x < y ? -1 : 1 }
            case (.word, .number): return -1
            case (.number, .word): return 1
            }
        }
        return 0
    }
}
