/// The OSV "Evaluation" algorithm (schema §Evaluation), with each ecosystem's own version ordering.
public struct RangeEvaluator: Sendable {
    /// Ordering for `ECOSYSTEM` ranges and `versions` lists.
    public let ecosystemOrdering: any VersionOrdering

    public init(ecosystemOrdering: any VersionOrdering) { self.ecosystemOrdering = ecosystemOrdering }

    /// The answer for one affected entry.
    public enum Verdict: Equatable, Sendable {
        case affected
        case notAffected
        /// The version (or an event version) could not be parsed in the range's ordering and the
        /// `versions` list did not list it: the caller should say so rather than claim "clean".
        case unknown
    }

    /// `IncludedInVersions || IncludedInRanges`. `GIT` ranges need the repository and are not evaluated.
    public func evaluate(_ version: String, _ affected: OSVAffected) -> Verdict {
        if let versions = affected.versions, versions.contains(where: { sameVersion($0, version) }) { return .affected }
        var unknown = false
        for range in affected.ranges ?? [] {
            let ordering: any VersionOrdering
            switch range.type {
            case "ECOSYSTEM": ordering = ecosystemOrdering
            case "SEMVER": ordering = SemVerOrdering()
            default: continue
            }
            switch Self.included(version, range.events, ordering) {
            case .some(true): return .affected
            case .some(false): break
            case .none: unknown = true
            }
        }
        return unknown ? .unknown : .notAffected
    }

    private func sameVersion(_ a: String, _ b: String) -> Bool {
        a == b || ecosystemOrdering.compare(a, b) == 0
    }

    /// One range: `BeforeLimits` then a walk over the events sorted by version (`introduced: "0"`
    /// first). `nil` when a needed comparison is impossible.
    static func included(_ v: String, _ events: [OSVEvent], _ ordering: any VersionOrdering) -> Bool? {
        // SEMVER ranges and Go versions: compare without a leading "v".
        let version = ordering is SemVerOrdering && v.hasPrefix("v") ? String(v.dropFirst()) : v
        func cmp(_ a: String, _ b: String) -> Int? {
            if a == b { return 0 }
            if b == "0" && (ordering is SemVerOrdering || ordering is GoVersionOrdering) { return 1 }
            return ordering.compare(a, b)
        }
        let limits = events.filter { $0.kind == .limit }
        if !limits.isEmpty {
            var before = false
            for l in limits {
                if l.version.contains("*") { before = true; break }
                guard let c = cmp(version, l.version) else { return nil }
                if c < 0 { before = true; break }
            }
            if !before { return false }
        }
        // Sort the events by version; "0" sorts first; on equal versions introduced comes first.
        func rank(_ k: OSVEvent.Kind) -> Int { k == .introduced ? 0 : 1 }
        let walk = events.filter { $0.kind != .limit }
        var sortFailed = false
        let sorted = walk.enumerated().sorted { x, y in
            let a = x.element, b = y.element
            if a.version == b.version { return (rank(a.kind), x.offset) < (rank(b.kind), y.offset) }
            if a.kind == .introduced && a.version == "0" { return true }
            if b.kind == .introduced && b.version == "0" { return false }
            guard let c = ordering.compare(a.version, b.version) else { sortFailed = true; return x.offset < y.offset }
            return c == 0 ? (rank(a.kind), x.offset) < (rank(b.kind), y.offset) : c < 0
        }.map(\.element)
        if sortFailed { return nil }
        var vulnerable = false
        for e in sorted {
            switch e.kind {
            case .introduced:
                if e.version == "0" { vulnerable = true; continue }
                guard let c = cmp(version, e.version) else { return nil }
                if c >= 0 { vulnerable = true }
            case .fixed:
                guard let c = cmp(version, e.version) else { return nil }
                if c >= 0 { vulnerable = false }
            case .lastAffected:
                guard let c = cmp(version, e.version) else { return nil }
                if c > 0 { vulnerable = false }
            case .limit: break
            }
        }
        return vulnerable
    }
}
