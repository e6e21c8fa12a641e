import Foundation
import XCTest
@testable import KitsuneServer

/// The hourly roll-ups answer stats exactly as counting the rows does: for any filter, any
/// `since`/`until` (aligned to hours or not), duplicates, missing fields, times before 1970, and
/// after retention has deleted part of an hour.
final class StatsRollupTests: XCTestCase {
    private let hour = StatsPlan.hourMs

    func testPlanTakesWholeHoursFromRollupsAndEdgesFromRows() {
        var filter = EventFilter()
        filter.sinceMs = 10 * hour + 5
        filter.untilMs = 20 * hour + 7
        var plan = StatsPlan(filter)
        XCTAssertEqual(plan.rollup, StatsPlan.Buckets(from: 11, through: 19))
        XCTAssertEqual(plan.raw.map { [$0.sinceMs, $0.untilMs] }, [[10 * hour + 5, 11 * hour], [20 * hour, 20 * hour + 7]])
        filter.sinceMs = 10 * hour
        filter.untilMs = 20 * hour
        plan = StatsPlan(filter)
        XCTAssertEqual(plan.rollup, StatsPlan.Buckets(from: 10, through: 19))
        XCTAssertEqual(plan.raw, [], "aligned bounds need no rows")
        filter.sinceMs = -hour - 1
        filter.untilMs = nil
        plan = StatsPlan(filter)
        XCTAssertEqual(plan.rollup, StatsPlan.Buckets(from: -1, through: nil))
        XCTAssertEqual(plan.raw.map { [$0.sinceMs, $0.untilMs] }, [[-hour - 1, -hour]])
        filter.sinceMs = 10 * hour + 5
        filter.untilMs = 10 * hour + 9
        XCTAssertNil(StatsPlan(filter).rollup, "within one hour: rows only")
        filter = EventFilter()
        XCTAssertEqual(StatsPlan(filter).rollup, StatsPlan.Buckets(from: nil, through: nil))
        for ineligible in ["request_id", "instance_id"] {
            var f = EventFilter()
            f.exact[ineligible] = ["x"]
            XCTAssertNil(StatsPlan(f).rollup, ineligible)
        }
        filter.text = "curl"
        XCTAssertNil(StatsPlan(filter).rollup, "free text is not rolled up")
        XCTAssertEqual(StatsPlan.floor(-1, hour), -1)
        XCTAssertEqual(StatsPlan.floor(-hour, hour), -1)
        XCTAssertEqual(StatsPlan.floor(hour - 1, hour), 0)
    }

    func testRollupsEqualCountingRowsBeforeAndAfterRetention() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            var rng = SplitMix(seed: 7)
            let base = Timestamps.parse("2026-12-01T00:00:00Z")!
            var events: [[String: Any]] = []
            for i in 0..<400 {
                // Ten hours of 2026, and a few minutes either side of 1970 (negative milliseconds).
                let t = i % 40 == 0 ? Int64(rng.next(in: 0..<(2 * hour))) - hour : base + Int64(rng.next(in: 0..<(10 * hour)))
                var e = sampleEvent(["time": Timestamps.format(t), "instance_id": "i\(i % 4)", "seq": i,
                                     "function_name": ["api", "worker", "cron"][rng.next(in: 0..<3)],
                                     "reason": ["drift", "honeypot", ""][rng.next(in: 0..<3)],
                                     "action": ["blocked", "reported"][rng.next(in: 0..<2)], "mode": ["enforce", "audit"][rng.next(in: 0..<2)]])
                if rng.next(in: 0..<5) == 0 { e["reason"] = nil }
                if rng.next(in: 0..<5) == 0 { e["function_name"] = nil }
                if rng.next(in: 0..<4) == 0 { e["account_id"] = nil }
                events.append(e)
            }
            for start in stride(from: 0, to: 400, by: 100) {
                assertEqual(try await s.post(Array(events[start..<(start + 100)]), token: g.token).status, 202)
            }
            // Retried batches are stored (and counted) once.
            let retried = try await s.post(Array(events[50..<150]), token: g.token)
            assertEqual(retried.object["duplicates"] as? Int, 100)
            try await compare(s.store, filters: 60, rng: &rng, around: base)

            // Retention in small steps cuts an hour in the middle.
            let cutoff = base + 4 * hour + 1_234_567
            while try await s.store.pruneEvents(olderThan: cutoff, limit: 37) == 37 {}
            try await compare(s.store, filters: 60, rng: &rng, around: base)
            let left = try await s.store.database.first(SQLStatement("SELECT COUNT(*) FROM event_counts WHERE bucket < ?",
                                                                     [.int(StatsPlan.floor(cutoff, hour))]))?.int(0)
            assertEqual(left, 0, "the roll-ups of hours retention emptied are gone")
            let total = try await s.store.stats(EventFilter(), by: .reason).total
            let rows = try await s.store.database.first(SQLStatement("SELECT COUNT(*) FROM events"))?.int(0)
            assertEqual(total, rows)
        }
    }

    /// Random filters: the answer through the roll-ups equals counting the rows, bucket by bucket.
    private func compare(_ store: ServerStore, filters: Int, rng: inout SplitMix, around base: Int64) async throws {
        for n in 0..<filters {
            var filter = EventFilter()
            if rng.next(in: 0..<3) > 0 { filter.sinceMs = base - hour + Int64(rng.next(in: 0..<(6 * hour))) }
            if rng.next(in: 0..<3) > 0 { filter.untilMs = (filter.sinceMs ?? base) + Int64(rng.next(in: 0..<(8 * hour))) }
            if n % 7 == 0 { filter.sinceMs = (filter.sinceMs ?? base) / hour * hour }
            if rng.next(in: 0..<3) == 0 { filter.exact["function"] = ["api", "cron"] }
            if rng.next(in: 0..<4) == 0 { filter.exact["action"] = ["blocked"] }
            if rng.next(in: 0..<4) == 0 { filter.exact["reason"] = ["honeypot"] }
            for grouping in StatsGrouping.allCases {
                let fast = try await store.stats(filter, by: grouping)
                let slow = try await store.rawStats(filter, by: grouping, limit: 100_000)
                let label = "\(grouping) since \(filter.sinceMs.map(String.init) ?? "-") until \(filter.untilMs.map(String.init) ?? "-") \(filter.exact)"
                XCTAssertEqual(fast.total, slow.total, label)
                XCTAssertEqual(Dictionary(uniqueKeysWithValues: fast.buckets.map { ($0.key ?? "∅", $0.count) }),
                               Dictionary(uniqueKeysWithValues: slow.buckets.map { ($0.key ?? "∅", $0.count) }), label)
                if grouping.isTime {
                    XCTAssertEqual(fast.buckets.map(\.key), fast.buckets.map(\.key).sorted { ($0 ?? "") < ($1 ?? "") }, "time order: \(label)")
                } else {
                    XCTAssertEqual(fast.buckets.map(\.count), fast.buckets.map(\.count).sorted(by: >), "largest first: \(label)")
                }
            }
        }
        // The limit keeps the largest buckets and still reports the whole total.
        let cut = try await store.stats(EventFilter(), by: .function, limit: 1)
        let all = try await store.stats(EventFilter(), by: .function)
        XCTAssertEqual(cut.buckets, Array(all.buckets.prefix(1)))
        XCTAssertEqual(cut.total, all.total)
    }
}

/// A small deterministic generator, so a failure replays.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(in range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func next(in range: Range<Int64>) -> Int { Int(range.lowerBound) + Int(next() % UInt64(range.count)) }
}
