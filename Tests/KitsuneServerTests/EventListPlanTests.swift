import Foundation
import XCTest
@testable import KitsuneServer

/// A page of events reads what it returns, not every newer event: one function quiet among busy
/// ones, and pages deep into the store (an export), on both stores.
final class EventListPlanTests: XCTestCase {
    /// 30 events of a quiet function, older than 300 of busy ones, several to a millisecond: every
    /// filter that walks an index pages through exactly the events a scan finds, in order.
    func testQuietFunctionPagesAsAScanDoes() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            let base: Int64 = 1_764_000_000_000
            var events: [[String: Any]] = []
            for i in 0..<30 {
                events.append(sampleEvent(["function_name": "quiet", "reason": i % 3 == 0 ? "honeypot" : "drift", "request_id": "rq-\(i % 4)",
                                           "time": Timestamps.format(base + Int64(i / 3) * 1000), "instance_id": "q", "seq": i]))
            }
            for i in 0..<300 {
                events.append(sampleEvent(["function_name": "busy", "time": Timestamps.format(base + 100_000 + Int64(i / 7) * 1000),
                                           "instance_id": "b", "seq": 1000 + i]))
            }
            for start in stride(from: 0, to: events.count, by: 110) {
                assertEqual(try await s.post(Array(events[start..<min(start + 110, events.count)]), token: g.token).status, 202)
            }
            for (query, expected) in [("function=quiet", 30), ("function=quiet&reason=honeypot", 10), ("request_id=rq-1", 8),
                                      ("function=quiet&reason=drift&request_id=rq-2", 5), ("function=quiet&function=busy", 330),
                                      ("reason=honeypot&since=2025-11-24T16:00:00Z", 10)] {
                var seen: [(time: String, seq: Int)] = [], cursor: String?
                repeat {
                    let r = try await s.json("GET", "/api/v1/events?\(query)&limit=4" + (cursor.map { "&cursor=" + $0 } ?? ""))
                    assertEqual(r.status, 200, "\(query): \(r.object)")
                    let page = r.object["events"] as? [[String: Any]] ?? []
                    seen += page.map { ($0["time"] as? String ?? "", $0["seq"] as? Int ?? -1) }
                    cursor = r.object["next_cursor"] as? String
                } while cursor != nil && seen.count <= 400
                assertEqual(seen.count, expected, "[\(s.backend.rawValue)] \(query): every match, once")
                assertEqual(Set(seen.map(\.seq)).count, expected, "\(query): no event twice")
                assertTrue(zip(seen, seen.dropFirst()).allSatisfy { $0.time >= $1.time }, "\(query): newest first")
            }
        }
    }

    /// PostgreSQL: a list of one function walks that function's index even when the planner is told
    /// random reads cost fifty sequential ones (what made it walk the time index and filter), and a
    /// page deep into the store seeks to its cursor instead of filtering from the newest event.
    func testPostgresListsSeekThroughTheirIndex() async throws {
        let s = try await TestServer(.postgres)
        do {
            let g = try await s.group()
            let batch = (0..<200).map { sampleEvent(["function_name": $0 % 2 == 0 ? "a" : "b", "instance_id": "p", "seq": $0,
                                                     "time": Timestamps.format(1_764_000_000_000 + Int64($0) * 1000)]) }
            assertEqual(try await s.post(batch, token: g.token).status, 202)
            _ = try await s.store.database.query(SQLStatement("ANALYZE events"))
            var one = EventFilter()
            one.exact["function"] = ["a"]
            let plan = try await explain(s.store, try await s.store.listStatement(one, limit: 11, after: nil))
            assertTrue(plan.contains("events_function_time"), "one function: its index\n\(plan)")
            let deep = try await explain(s.store, try await s.store.listStatement(EventFilter(), limit: 11,
                                                                                  after: EventCursor(timeMs: 1_764_000_050_000, id: 40)))
            assertTrue(deep.range(of: #"Index Cond: \(time_ms <= "#, options: .regularExpression) != nil, "a deep page seeks\n\(deep)")
            var text = one
            text.text = "tmp"
            var both = one
            both.exact["reason"] = ["drift"]
            var request = both
            request.exact["request_id"] = ["r-1"]
            var two = EventFilter()
            two.exact["function"] = ["a", "b"]
            assertEqual(request.listWalk(.postgres), "request_id", "a request id is the fewest events")
            assertEqual([text, both, two].map { $0.listWalk(.postgres) }, [nil, nil, nil],
                        "free text, a function with a reason, two functions: the planner chooses")
            assertTrue(one.listWalk(.sqlite) == nil, "SQLite's planner walks the filter's index by itself")
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// The plan PostgreSQL picks for `statement` with only ordered index scans allowed (no sort, no
    /// sequential or bitmap scan) and random reads made dear.
    private func explain(_ store: ServerStore, _ statement: SQLStatement) async throws -> String {
        let settings = ["enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort"].map { SQLStatement("SET LOCAL \($0) = off") }
        let results = try await store.database.transaction(
            settings + [SQLStatement("SET LOCAL random_page_cost = 50"), SQLStatement("EXPLAIN " + statement.sql, statement.binds)], durable: false)
        return (results.last ?? []).compactMap { $0.text(0) }.joined(separator: "\n")
    }
}
