import Foundation
import XCTest
@testable import KitsuneServer

/// `POST /api/v1/events` on both stores: durable acknowledgements, exactly-once storage of retried
/// batches, malformed events refused one by one, tokens and their scopes, limits.
final class IngestAPITests: XCTestCase {
    func testBatchesAreStoredOnceAndRetriesAreDuplicates() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            let batch = (1...5).map { sampleEvent(["instance_id": "0123456789abcdef0123456789abcdef", "seq": $0, "request_id": "req-\($0)"]) }
            var r = try await s.post(batch, token: g.token)
            XCTAssertEqual(r.status, 202, "\(r.object)")
            XCTAssertEqual(r.object["accepted"] as? Int, 5)
            XCTAssertEqual(r.object["duplicates"] as? Int, 0)
            // The same batch again (a retry after a lost response), and an overlapping one.
            r = try await s.post(batch, token: g.token)
            XCTAssertEqual(r.status, 202)
            XCTAssertEqual(r.object["accepted"] as? Int, 0)
            XCTAssertEqual(r.object["duplicates"] as? Int, 5)
            r = try await s.post(Array(batch[3...]) + [sampleEvent(["instance_id": "0123456789abcdef0123456789abcdef", "seq": 6])], token: g.token)
            XCTAssertEqual(r.object["accepted"] as? Int, 1)
            XCTAssertEqual(r.object["duplicates"] as? Int, 2)
            // Senders without instance ids: the same bytes twice are one event.
            let legacy = [["time": "2026-12-01T09:00:00Z", "action": "reported", "reason": "drift", "function_name": "old"]]
            assertEqual(try await s.post(legacy, token: g.token).object["accepted"] as? Int, 1)
            assertEqual(try await s.post(legacy, token: g.token).object["duplicates"] as? Int, 1)
            // The same event with its keys in another order (another serialiser) is still that event.
            let reordered = Data(#"[{"function_name":"old","reason":"drift","action":"reported","time":"2026-12-01T09:00:00Z"}]"#.utf8)
            let again = try await s.request("POST", "/api/v1/events", token: g.token, body: reordered)
            assertEqual((try? JSONSerialization.jsonObject(with: again.body) as? [String: Any])?["duplicates"] as? Int, 1)
            assertEqual(try await s.events("limit=1000").count, 7)
            let one = try await s.events("request_id=req-3")
            XCTAssertEqual(one.count, 1)
            XCTAssertEqual(one.first?["seq"] as? Int, 3)
        }
    }

    func testEventsAreReturnedVerbatim() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            let hostile = #"[{"action":"blocked","reason":"drift","argv":["sh","-c","<script>alert(document.cookie)</script>","javascript:alert(1)","\u0000\u2028'; DROP TABLE events;--"],"executable":"/tmp/<img src=x onerror=alert(1)>","unknown_field":{"nested":[1,2,{"deep":true}]},"function_name":"web"}]"#
            let r = try await s.request("POST", "/api/v1/events", token: g.token, body: Data(hostile.utf8))
            XCTAssertEqual(r.status, 202, String(decoding: r.body, as: UTF8.self))
            let list = try await s.request("GET", "/api/v1/events?function=web", token: s.admin)
            let text = String(decoding: list.body, as: UTF8.self)
            XCTAssertTrue(text.hasPrefix(#"{"events":["# + hostile.dropFirst().dropLast() + "]"), text)
            XCTAssertEqual(list.headers["content-type"], "application/json; charset=utf-8")
            XCTAssertEqual(list.headers["x-content-type-options"], "nosniff")
            assertEqual(try await s.events("q=drop+table").count, 1, "stored as text, never run")
        }
    }

    func testAMalformedEventNeverBlocksTheOthers() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            let body = #"[{"action":"blocked","function_name":"a"},{"action":"blocked","time":"not a time"},{"action":7},{"action":"reported","function_name":"b"}]"#
            let r = try await s.request("POST", "/api/v1/events", token: g.token, body: Data(body.utf8))
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.body) as? [String: Any])
            XCTAssertEqual(r.status, 400)
            XCTAssertEqual(object["accepted"] as? Int, 2)
            XCTAssertEqual(object["field"] as? String, "events[1].time")
            let rejected = try XCTUnwrap(object["rejected"] as? [[String: Any]])
            XCTAssertEqual(rejected.map { $0["index"] as? Int }, [1, 2])
            XCTAssertEqual(rejected.map { $0["field"] as? String }, ["time", "action"])
            assertEqual(try await s.events().count, 2)
            for (bad, field) in [("{}", "body"), ("[", "body"), ("not json", "body"), (#"[{"action":"x","action":"y"}]"#, "body")] {
                let r = try await s.request("POST", "/api/v1/events", token: g.token, body: Data(bad.utf8))
                XCTAssertEqual(r.status, 400, bad)
                XCTAssertEqual((try? JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["field"] as? String, field, bad)
            }
        }
    }

    func testLimits() async throws {
        try await forEachBackend(configure: { $0.limits.maxEvents = 50; $0.limits.maxBodyBytes = 64 << 10; $0.rateLimit = 5; $0.rateBurst = 5 }) { s in
            let g = try await s.group()
            var r = try await s.post((0..<51).map { _ in sampleEvent() }, token: g.token)
            XCTAssertEqual(r.status, 413, "\(r.object)")
            let big = try await s.request("POST", "/api/v1/events", token: g.token, body: Data(repeating: 32, count: 70 << 10))
            XCTAssertEqual(big.status, 413)
            var limited: (status: Int, headers: [String: String], body: Data)?
            for _ in 0..<10 {
                let x = try await s.request("POST", "/api/v1/events", token: g.token, body: Data("[]".utf8))
                if x.status == 429 { limited = x; break }
            }
            XCTAssertEqual(limited?.status, 429)
            XCTAssertNotNil(Int(limited?.headers["retry-after"] ?? ""), "\(limited?.headers ?? [:])")
            r = try await s.post([sampleEvent()], token: (try await s.group()).token)
            XCTAssertEqual(r.status, 202, "another token has its own budget")
        }
    }

    func testOnlyGroupTokensPostAndOnlyAsTheirFunctions() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            assertEqual(try await s.post([sampleEvent()], token: s.admin).status, 403)
            assertEqual(try await s.request("POST", "/api/v1/events", body: Data("[]".utf8)).status, 401)
            assertEqual(try await s.post([sampleEvent()], token: "kit_0000000000000000_" + String(repeating: "0", count: 64)).status, 401)
            // A token leaked from one function's environment speaks only for that function.
            let scoped = try await s.json("POST", "/api/v1/enforcer-groups/\(g.id)/tokens",
                                          body: ["functions": [["function_name": "api", "account_id": "123456789012", "region": "eu-west-1"]]])
            XCTAssertEqual(scoped.status, 201, "\(scoped.object)")
            let token = try XCTUnwrap(scoped.object["token"] as? String)
            let r = try await s.post([sampleEvent(), sampleEvent(["function_name": "payments"]), sampleEvent(["account_id": "999999999999"]),
                                      ["action": "blocked", "reason": "drift", "function_name": "api", "seq": 1]], token: token)
            XCTAssertEqual(r.status, 400)
            XCTAssertEqual(r.object["accepted"] as? Int, 2)
            XCTAssertEqual((r.object["rejected"] as? [[String: Any]])?.map { $0["index"] as? Int }, [1, 2])
            let filled = try await s.events("account=123456789012&function=api")
            XCTAssertEqual(filled.count, 2, "the scope's account fills in what the event left out")
            // Rotation: the old group token stops working, the new one works.
            let rotated = try await s.json("POST", "/api/v1/enforcer-groups/\(g.id)/rotate")
            XCTAssertEqual(rotated.status, 200)
            assertEqual(try await s.post([sampleEvent()], token: g.token).status, 401)
            assertEqual(try await s.post([sampleEvent(["seq": 9, "instance_id": "x"])], token: try XCTUnwrap(rotated.object["token"] as? String)).status, 202)
            assertEqual(try await s.post([sampleEvent(["seq": 10, "instance_id": "x"])], token: token).status, 202, "function tokens survive a rotation")
        }
    }
}
