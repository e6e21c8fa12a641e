import Foundation

/// One bucket of a stats answer.
public struct StatsBucket: Sendable, Equatable {
    public var key: String?
    public var count: Int64
}

extension ServerStore {
    /// Counts by `grouping` (largest first; time buckets in time order), at most `limit` buckets,
    /// and the total over every bucket. Whole hours come from the roll-ups (see `StatsPlan`).
    public func stats(_ filter: EventFilter, by grouping: StatsGrouping, limit: Int = 1000) async throws(StoreError) -> (buckets: [StatsBucket], total: Int64) {
        let plan = StatsPlan(filter)
        guard plan.rollup != nil else { return try await rawStats(filter, by: grouping, limit: limit) }
        var counts: [SQLValue: Int64] = [:]
        let (condition, binds) = plan.rollupCondition(filter)
        for row in try await database.query(SQLStatement(
            "SELECT \(grouping.rollupExpression) AS k, CAST(SUM(n) AS BIGINT) FROM event_counts \(condition) GROUP BY k", binds)) {
            counts[row[0], default: 0] += row.int(1)
        }
        for edge in plan.raw {
            let (condition, binds) = edge.condition(dialect)
            for row in try await database.query(SQLStatement(
                "SELECT \(grouping.rawExpression) AS k, COUNT(*) FROM events \(condition) GROUP BY k", binds)) {
                counts[row[0], default: 0] += row.int(1)
            }
        }
        let kept = counts.filter { $0.value > 0 }
        let ordered = kept.sorted { a, b in
            if !grouping.isTime && a.value != b.value { return a.value > b.value }
            return Self.keyOrder(a.key, b.key)
        }
        let buckets = ordered.prefix(limit).map { bucket(grouping, key: $0.key, count: $0.value) }
        return (buckets, kept.values.reduce(0, +))
    }

    /// Stats counted from the events rows alone, the database ordering and cutting the buckets.
    func rawStats(_ filter: EventFilter, by grouping: StatsGrouping, limit: Int) async throws(StoreError) -> (buckets: [StatsBucket], total: Int64) {
        let (condition, filterBinds) = filter.condition(dialect)
        let source = try await eventSource(filter)
        let binds = source.binds + filterBinds
        let order = grouping.isTime ? "k" : "COUNT(*) DESC, k"
        let rows = try await database.query(SQLStatement(
            "SELECT \(grouping.rawExpression) AS k, COUNT(*) FROM \(source.sql) \(condition) GROUP BY k ORDER BY \(order) LIMIT ?",
            binds + [.int(Int64(limit))]))
        let buckets = rows.map { bucket(grouping, key: $0[0], count: $0.int(1)) }
        // Every bucket is here unless the limit cut some off: then (only then) count them all.
        if rows.count < limit { return (buckets, buckets.reduce(0) { $0 + $1.count }) }
        let total = try await database.first(SQLStatement("SELECT COUNT(*) FROM \(source.sql) \(condition)", binds))?.int(0) ?? 0
        return (buckets, total)
    }

    private func bucket(_ grouping: StatsGrouping, key: SQLValue, count: Int64) -> StatsBucket {
        StatsBucket(key: grouping.isTime ? Timestamps.format((key.int ?? 0) * grouping.scaleMs) : key.text, count: count)
    }

    /// Missing first, then numbers, then text.
    private static func keyOrder(_ a: SQLValue, _ b: SQLValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.text(let x), .text(let y)): return x < y
        case (.null, .null): return false
        case (.null, _): return true
        case (_, .null): return false
        case (.int, _): return true
        default: return false
        }
    }
}
