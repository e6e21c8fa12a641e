import Foundation

/// What `GET /api/v1/events/stats` groups by.
public enum StatsGrouping: String, Sendable, CaseIterable {
    case reason, function, account, region, action, mode, hour, day

    /// The column of a dimension grouping (nil for hour and day); the same name in `events` and in
    /// the `event_counts` roll-ups.
    var column: String? {
        switch self {
        case .reason: return "reason"
        case .function: return "function_name"
        case .account: return "account_id"
        case .region: return "region"
        case .action: return "action"
        case .mode: return "mode"
        case .hour, .day: return nil
        }
    }

    var isTime: Bool { self == .hour || self == .day }

    /// Milliseconds a time bucket spans.
    var scaleMs: Int64 { self == .day ? 86_400_000 : StatsPlan.hourMs }

    /// The bucket key over `events` rows (fixed SQL fragments, never user text). A missing value and
    /// an empty one are the same bucket, as they are in the roll-ups.
    var rawExpression: String {
        if let column { return "NULLIF(\(column), '')" }
        return StatsPlan.floorDivision("time_ms", scaleMs)
    }

    /// The bucket key over `event_counts` rows (whose `bucket` is the hour).
    var rollupExpression: String {
        if let column { return "NULLIF(\(column), '')" }
        return self == .hour ? "bucket" : StatsPlan.floorDivision("bucket", 24)
    }
}

/// How a stats query is answered: whole hours from the hourly roll-ups (`event_counts`, kept by
/// triggers), the partial hours at the edges of `since`/`until` from the events themselves. A filter
/// the roll-ups do not carry (`q`, `request_id`, `instance_id`) is answered from the events alone.
/// The cost is then proportional to the hours and distinct combinations in range, plus at most two
/// hours of rows, whatever the number of events.
struct StatsPlan: Equatable {
    static let hourMs: Int64 = 3_600_000

    /// Hour buckets, inclusive; nil bounds are open.
    struct Buckets: Equatable {
        var from: Int64?
        var through: Int64?
    }

    /// The hours counted from the roll-ups; nil: no roll-up part.
    var rollup: Buckets?
    /// The filters whose rows are counted from `events`.
    var raw: [EventFilter]

    init(_ filter: EventFilter) {
        guard filter.text == nil, filter.exact["request_id"] == nil, filter.exact["instance_id"] == nil else {
            rollup = nil
            raw = [filter]
            return
        }
        let from = filter.sinceMs.map { -Self.floor(-$0, Self.hourMs) }
        let through = filter.untilMs.map { Self.floor($0, Self.hourMs) - 1 }
        if let from, let through, from > through {
            rollup = nil
            raw = [filter]
            return
        }
        rollup = Buckets(from: from, through: through)
        raw = []
        if let since = filter.sinceMs, let from, since < from * Self.hourMs {
            var edge = filter
            edge.untilMs = from * Self.hourMs
            raw.append(edge)
        }
        if let until = filter.untilMs, let through, (through + 1) * Self.hourMs < until {
            var edge = filter
            edge.sinceMs = (through + 1) * Self.hourMs
            raw.append(edge)
        }
    }

    /// `WHERE …` over `event_counts` for the roll-up part, and its binds.
    func rollupCondition(_ filter: EventFilter) -> (sql: String, binds: [SQLValue]) {
        var parts: [String] = [], binds: [SQLValue] = []
        for (parameter, column) in EventFilter.columns {
            guard let values = filter.exact[parameter] else { continue }
            parts.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ",")))")
            binds += values.map { .text($0) }
        }
        if let from = rollup?.from { parts.append("bucket >= ?"); binds.append(.int(from)) }
        if let through = rollup?.through { parts.append("bucket <= ?"); binds.append(.int(through)) }
        return (parts.isEmpty ? "" : "WHERE " + parts.joined(separator: " AND "), binds)
    }

    /// ⌊a / d⌋ for d > 0.
    static func floor(_ a: Int64, _ d: Int64) -> Int64 { a >= 0 ? a / d : -((-a + d - 1) / d) }

    /// SQL for ⌊expression / d⌋ (integer division truncates toward zero in both dialects).
    static func floorDivision(_ expression: String, _ d: Int64) -> String {
        "(CASE WHEN \(expression) >= 0 THEN \(expression) / \(d) ELSE (\(expression) - \(d - 1)) / \(d) END)"
    }
}
