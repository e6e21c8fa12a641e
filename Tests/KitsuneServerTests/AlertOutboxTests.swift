import Foundation
import Logging
import XCTest
@testable import KitsuneServer

/// The outbox's guarantees: an id that becomes visible late is still evaluated, nothing is alerted
/// twice, and an alert survives `kill -9` of the server mid-delivery.
final class AlertOutboxTests: XCTestCase {
    /// An event row written as ingest would, with a chosen id (standing for a commit that became
    /// visible after higher ids), or with none: the database picks it, as for ingest.
    func insertEvent(_ store: ServerStore, id: Int64?, function: String, reason: String = "drift") async throws {
        let now = Timestamps.nowMs()
        let idColumn = id == nil ? "" : "id, "
        let idValue: [SQLValue] = id.map { [.int($0)] } ?? []
        _ = try await store.database.transaction([SQLStatement(
            "INSERT INTO events (\(idColumn)group_id, dedup_key, time_ms, received_ms, action, reason, function_name, search, body) VALUES (\(idValue.isEmpty ? "" : "?, ")'g', ?, ?, ?, 'blocked', ?, ?, '', ?)",
            idValue + [.text("k-\(function)"), .int(now), .int(now), .text(reason), .text(function), .text(#"{"argv":["/tmp/x"]}"#)])])
    }

    func testLateVisibleIDsAreEvaluatedOnceEvenWithConcurrentPasses() async throws {
        for backend in Backend.allCases {
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let store = try await backend.makeStore(in: dir)
            var settings = AlertSettings()
            settings.lagIDs = 50
            let engine = AlertEngine(settings: settings, table: try SeverityTable.bundled.get())
            _ = try await store.createDestination(name: "all", kind: .webhook, target: "http://127.0.0.1:9/x", secret: nil, match: AlertMatch(), enabled: true, actor: "t")
            try await engine.evaluate(store)   // starts the cursor after the (empty) history
            for id: Int64 in [1, 2, 3, 5, 6] { try await insertEvent(store, id: id, function: "f\(id)") }
            try await engine.evaluate(store)
            assertEqual(try await store.alerts(limit: 100).count, 5, "[\(backend)]")
            try await insertEvent(store, id: 4, function: "f4")   // committed late, below the cursor
            try await engine.evaluate(store)
            try await engine.evaluate(store)
            var firsts = try await store.alerts(limit: 100).map(\.firstEventID).sorted()
            assertEqual(firsts, [1, 2, 3, 4, 5, 6], "[\(backend)] the late id was caught, nothing doubled")
            // Two evaluators at once (a lease handover): still once each.
            for id: Int64 in 7...40 { try await insertEvent(store, id: id, function: "f\(id)") }
            async let a: Int? = try? engine.evaluate(store)
            async let b: Int? = try? engine.evaluate(store)
            _ = await (a, b)
            try await engine.evaluate(store)
            firsts = try await store.alerts(limit: 1000).map(\.firstEventID).sorted()
            assertEqual(firsts, Array(1...40), "[\(backend)] each event alerted exactly once")
            // Below the lag window an id is not re-read (the window bounds the work of a pass).
            assertEqual(try await store.alertCursor()?.last, 40)
            await store.database.close()
        }
    }

    /// SQLite hands out the largest id plus one: once retention has deleted every event (a fleet
    /// quiet for the whole retention period), the next events get ids the evaluator has passed. They
    /// are alerted all the same (migration 11); without it this test fails.
    func testIDsReusedAfterRetentionAreStillAlerted() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await Backend.sqlite.makeStore(in: dir)
        let engine = AlertEngine(settings: AlertSettings(), table: try SeverityTable.bundled.get())
        _ = try await store.createDestination(name: "all", kind: .webhook, target: "http://127.0.0.1:9/x", secret: nil, match: AlertMatch(), enabled: true, actor: "t")
        try await engine.evaluate(store)
        for id: Int64 in 1...3 { try await insertEvent(store, id: id, function: "old\(id)") }
        try await engine.evaluate(store)
        assertEqual(try await store.alertCursor()?.last, 3)
        while try await store.pruneEvents(olderThan: Timestamps.nowMs() + 1000, limit: 2) > 0 {}
        assertEqual(try await store.newestEventID(), 0, "retention emptied the table")
        for name in ["attack-a", "attack-b"] { try await insertEvent(store, id: nil, function: name) }   // ids chosen by SQLite
        assertEqual(try await store.newestEventID(), 2, "SQLite reused the ids")
        try await engine.evaluate(store)
        let functions = try await store.alerts(limit: 100).compactMap(\.event.functionName).sorted()
        assertEqual(functions, ["attack-a", "attack-b", "old1", "old2", "old3"], "the events after retention were alerted, once each")
        try await engine.evaluate(store)
        assertEqual(try await store.alerts(limit: 100).count, 5)
        await store.database.close()
    }

    /// `kill -9` while the receiver holds the request: after a restart on the same store the alert is
    /// sent again with the same id (at-least-once; the receiver drops the duplicate by id).
    func testOutboxSurvivesKillMidDelivery() async throws {
        for backend in Backend.allCases {
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let storeArgs = backend == .sqlite ? ["--data", dir + "/data"] : ["--database", try PostgresCluster.newDatabase()]
            let admin = try PostgresCluster.run([ReliabilityTests.kitsune, "server", "token", "create", "--role", "admin"] + storeArgs)
                .split(separator: "\n").first { $0.hasPrefix("kit_") }.map(String.init)
            let token = try XCTUnwrap(admin)
            let receiver = try AlertTestReceiver { $0 == 1 ? nil : 200 }   // the first request hangs
            defer { receiver.stop() }
            let victim = try ServerProcess(storeArgs)
            let d = try await TestHTTP.json("POST", victim.base + "/api/v1/alert-destinations", token: token,
                                            body: ["name": "hook", "kind": "webhook", "target": receiver.url])
            XCTAssertNotNil(d["id"], "[\(backend)] \(d)")
            let g = try await TestHTTP.json("POST", victim.base + "/api/v1/enforcer-groups", token: token, body: ["name": "g"])
            let groupToken = try XCTUnwrap(g["token"] as? String)
            // The first job tick (at start) placed the cursor; wait for it so the event is new to it.
            try await Task.sleep(for: .seconds(1))
            let r = try await TestHTTP.request("POST", victim.base + "/api/v1/events", token: groupToken,
                                               body: try JSONSerialization.data(withJSONObject: [sampleEvent(["reason": "honeypot"])]))
            XCTAssertEqual(r.status, 202)
            let inFlight = await receiver.wait(seconds: 30) { r, _ in r.count == 1 }
            XCTAssertTrue(inFlight, "[\(backend)] the delivery did not start")
            victim.kill()
            let server = try ServerProcess(storeArgs)
            defer { server.kill() }
            let redelivered = await receiver.wait(seconds: 40) { _, answered in answered.contains(200) }
            XCTAssertTrue(redelivered, "[\(backend)] not redelivered after the restart: \(receiver.requests.count) requests")
            let ids = receiver.requests.map { $0.headers["kitsune-alert-id"] ?? "?" }
            XCTAssertEqual(Set(ids).count, 1, "[\(backend)] the same alert id: \(ids)")
            let list = try await TestHTTP.json("GET", server.base + "/api/v1/alerts", token: token)["alerts"] as? [[String: Any]] ?? []
            XCTAssertEqual(list.count, 1)
            XCTAssertEqual(list.first?["state"] as? String, "delivered")
            XCTAssertEqual(list.first?["id"] as? String, ids.first)
        }
    }

    /// Honeypot use with no destination at all is counted, and logged at error level once a pass
    /// with the count and the ids, not once an event (a burst must not flood the log).
    func testUndeliverableHoneypotUseIsLoggedOnceAPass() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await Backend.sqlite.makeStore(in: dir)
        let lines = CapturedLog()
        let metrics = ServerMetrics()
        let engine = AlertEngine(settings: AlertSettings(), table: try SeverityTable.bundled.get(), metrics: metrics,
                                 logger: Logger(label: "t") { _ in lines })
        try await engine.evaluate(store)
        for id: Int64 in 1...50 { try await insertEvent(store, id: id, function: "f\(id)", reason: id % 2 == 0 ? "honeypot" : "drift") }
        try await engine.evaluate(store)
        XCTAssertEqual(lines.messages, ["error honeypot use with no alert destination configured events=25 first_event_id=2 last_event_id=50"])
        XCTAssertTrue(metrics.render().contains("kitsune_alerts_undeliverable_total 25"), metrics.render())
        await store.database.close()
    }
}

/// A log handler keeping each message with its level and metadata (sorted), for tests of what is logged.
final class CapturedLog: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var messages: [String] { lock.withLock { kept } }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        lock.withLock { kept.append(([event.level.rawValue, "\(event.message)"] + fields).joined(separator: " ")) }
    }
}
