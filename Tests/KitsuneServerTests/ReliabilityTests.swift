import Foundation
import Synchronization
import XCTest
@testable import KitsuneServer

/// What happens when things break: the server killed mid-ingest, PostgreSQL restarted, the disk full,
/// a replica gone; and retention pruning in steps.
final class ReliabilityTests: XCTestCase {
    /// The `kitsune` binary built next to the tests.
    static var kitsune: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kitsune").path
    }

    /// `kill -9` of `kitsune server` while 4 clients post: after a restart, every event that got a 202 is there.
    func testKillDashNineLosesNoAcknowledgedEvent() async throws {
        for backend in Backend.allCases {
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let storeArgs = backend == .sqlite ? ["--data", dir + "/data"] : ["--database", try PostgresCluster.newDatabase()]
            let admin = try PostgresCluster.run([Self.kitsune, "server", "token", "create", "--role", "admin"] + storeArgs)
                .split(separator: "\n").first { $0.hasPrefix("kit_") }.map(String.init)
            let token = try XCTUnwrap(admin, "token create printed no token")
            let victim = try ServerProcess(storeArgs)
            let g = try await TestHTTP.json("POST", victim.base + "/api/v1/enforcer-groups", token: token, body: ["name": "load"])
            let groupToken = try XCTUnwrap(g["token"] as? String, "\(g)")
            let acked = Counts()
            let killer = Task { try await Task.sleep(for: .milliseconds(1500)); victim.kill() }
            await withTaskGroup(of: Void.self) { tasks in
                for client in 0..<4 {
                    let base = victim.base
                    tasks.addTask {
                        let instance = "load\(client)"
                        var seq = 0
                        while true {
                            let batch = (0..<50).map { i in sampleEvent(["instance_id": instance, "seq": seq + i + 1]) }
                            guard let r = try? await TestHTTP.request("POST", base + "/api/v1/events", token: groupToken,
                                                                      body: try! JSONSerialization.data(withJSONObject: batch)), r.status == 202 else { return }
                            seq += 50
                            acked.set(instance, seq)
                        }
                    }
                }
            }
            _ = await killer.result
            let server = try ServerProcess(storeArgs)
            defer { server.kill() }
            let counts = acked.values
            XCTAssertGreaterThan(counts.values.reduce(0, +), 0, "[\(backend)] nothing was acknowledged before the kill")
            for (instance, n) in counts {
                let stats = try await TestHTTP.json("GET", server.base + "/api/v1/events/stats?group_by=reason&instance_id=\(instance)", token: token)
                XCTAssertGreaterThanOrEqual(stats["total"] as? Int ?? -1, n, "[\(backend)] \(instance): acknowledged \(n), stored \(stats)")
            }
            if backend == .sqlite {
                let store = try await ServerStore.open(data: dir + "/data", databaseURL: nil)
                let problem = await (store.database as? SQLiteDatabase)?.integrityProblem()
                XCTAssertNil(problem)
                await store.database.close()
            }
        }
    }

    /// PostgreSQL stopped under the server: 503 with Retry-After meanwhile, and back to 202 once the
    /// database is, without restarting the server.
    func testPostgresRestartGives503ThenRecovers() async throws {
        let s = try await TestServer(.postgres)
        let g = try await s.group()
        assertEqual(try await s.post([sampleEvent()], token: g.token).status, 202)
        try PostgresCluster.control("stop")
        var restarted = false
        do {
            let r = try await s.request("POST", "/api/v1/events", token: g.token, body: Data("[{\"action\":\"blocked\",\"seq\":2,\"instance_id\":\"pg\"}]".utf8))
            XCTAssertEqual(r.status, 503, String(decoding: r.body, as: UTF8.self))
            XCTAssertEqual(r.headers["retry-after"], "5")
            assertEqual(try await s.request("GET", "/readyz").status, 503)
            try PostgresCluster.control("start")
            restarted = true
            var status = 0
            for _ in 0..<50 {
                status = try await s.post([sampleEvent(["seq": 3, "instance_id": "pg"])], token: g.token).status
                if status == 202 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            XCTAssertEqual(status, 202, "the server recovers by itself")
            assertEqual(try await s.request("GET", "/readyz").status, 200)
        } catch {
            if !restarted { try? PostgresCluster.control("start") }
            throw error
        }
        await s.stop()
    }

    /// SIGTERM during a PostgreSQL outage that began under load: the server stops within the grace
    /// a container gets (30 s in Kubernetes), answering what was in flight. Before, it waited for ever:
    /// postgres-nio never answered the queries whose connection closed under them (5 of 5 stops).
    func testAServerStopsWhenPostgresDiesUnderLoad() async throws {
        let storeArgs = ["--database", try PostgresCluster.newDatabase()]
        let admin = try PostgresCluster.run([Self.kitsune, "server", "token", "create", "--role", "admin"] + storeArgs)
            .split(separator: "\n").first { $0.hasPrefix("kit_") }.map(String.init)
        let server = try ServerProcess(storeArgs)
        defer { server.kill() }
        let g = try await TestHTTP.json("POST", server.base + "/api/v1/enforcer-groups", token: try XCTUnwrap(admin), body: ["name": "outage"])
        let groupToken = try XCTUnwrap(g["token"] as? String, "\(g)")
        let acked = Counts()
        let clients = Task {
            await withTaskGroup(of: Void.self) { tasks in
                for client in 0..<8 {
                    let base = server.base
                    tasks.addTask {
                        var seq = 0
                        while !Task.isCancelled {
                            let batch = (0..<100).map { i in sampleEvent(["instance_id": "outage\(client)", "seq": seq + i + 1]) }
                            guard let r = try? await TestHTTP.request("POST", base + "/api/v1/events", token: groupToken,
                                                                      body: try! JSONSerialization.data(withJSONObject: batch)), r.status == 202 else { return }
                            seq += 100
                            acked.set("outage\(client)", seq)
                        }
                    }
                }
            }
        }
        var stopped = false
        do {
            for _ in 0..<100 where acked.values.values.reduce(0, +) < 2_000 { try await Task.sleep(for: .milliseconds(50)) }
            try PostgresCluster.control("stop")
            stopped = true
            try await Task.sleep(for: .milliseconds(300))
            let signalled = ContinuousClock.now
            Glibc.kill(server.process.processIdentifier, SIGTERM)
            while server.process.isRunning && ContinuousClock.now - signalled < .seconds(25) { try await Task.sleep(for: .milliseconds(100)) }
            let took = ContinuousClock.now - signalled
            XCTAssertFalse(server.process.isRunning, "still running \(took) after SIGTERM")
            server.kill()
            XCTAssertGreaterThan(acked.values.values.reduce(0, +), 0, "nothing was acknowledged before the outage")
            clients.cancel()
            _ = await clients.result
            try PostgresCluster.control("start")
        } catch {
            server.kill()
            clients.cancel()
            if stopped { try? PostgresCluster.control("start") }
            throw error
        }
    }

    /// The SQLite disk fills up: 503, the store stays consistent, and ingest resumes once there is room.
    func testDiskFullGives503AndNoCorruption() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try PostgresCluster.run(["/bin/mount", "-t", "tmpfs", "-o", "size=1m", "kitsune-full", dir])
        defer { _ = try? PostgresCluster.run(["/bin/umount", "-l", dir]) }
        let store = try await ServerStore.open(data: dir + "/data", databaseURL: nil)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.rateLimit = 0
        let plane = ControlPlane(configuration: configuration, store: store)
        let admin = try await store.createAPIToken(role: .admin, name: "a", actor: "t").text
        let (group, token) = try await store.createGroup(name: "g", actor: "t")
        _ = group
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = try plane.application { sink.yield($0) }
        let task = Task { try await app.run() }
        defer { task.cancel() }
        var it = ports.makeAsyncIterator()
        let port = await it.next()
        let base = "http://127.0.0.1:\(try XCTUnwrap(port))"
        var statuses: [Int] = [], stored = 0, seq = 0
        for _ in 0..<200 {
            let batch = (0..<20).map { _ in seq += 1; return sampleEvent(["instance_id": "full", "seq": seq, "detail": String(repeating: "x", count: 2000)]) }
            let r = try await TestHTTP.request("POST", base + "/api/v1/events", token: token.text, body: try JSONSerialization.data(withJSONObject: batch))
            statuses.append(r.status)
            if r.status == 202 { stored += 20 }
            if r.status == 503 { XCTAssertEqual(r.headers["retry-after"], "5"); break }
        }
        XCTAssertEqual(statuses.last, 503, "\(statuses)")
        assertNil(await (store.database as? SQLiteDatabase)?.integrityProblem())
        _ = try PostgresCluster.run(["/bin/mount", "-o", "remount,size=32m", dir])
        let again = try await TestHTTP.request("POST", base + "/api/v1/events", token: token.text,
                                               body: try JSONSerialization.data(withJSONObject: [sampleEvent(["instance_id": "full", "seq": seq + 1])]))
        XCTAssertEqual(again.status, 202)
        let stats = try await TestHTTP.json("GET", base + "/api/v1/events/stats?group_by=reason", token: admin)
        XCTAssertEqual(stats["total"] as? Int, stored + 1, "every acknowledged event, and only those")
        task.cancel()
        _ = await task.result
        await store.database.close()
    }

    /// Background jobs run on one replica; when it dies without a word, another takes over.
    func testTheJobsLeaseMovesWhenItsHolderDies() async throws {
        let url = try PostgresCluster.newDatabase()
        let a = try await ServerStore.open(data: "", databaseURL: url), b = try await ServerStore.open(data: "", databaseURL: url)
        assertTrue(try await a.acquireLease("jobs", holder: "a", ttlMs: 400))
        assertFalse(try await b.acquireLease("jobs", holder: "b", ttlMs: 400))
        assertTrue(try await a.acquireLease("jobs", holder: "a", ttlMs: 400), "renewal")
        let leaders = Counts()
        var jobsB = BackgroundJobs(store: b, holder: "b", jobs: [("mark", { _ in leaders.set("b", 1) })])
        jobsB.interval = .milliseconds(100)
        jobsB.ttlMs = 400
        let runB = Task { try await jobsB.run() }
        try await Task.sleep(for: .milliseconds(250))
        XCTAssertEqual(leaders.values, [:], "a still holds the lease")
        try await Task.sleep(for: .milliseconds(600))   // a stopped renewing: its lease expired
        XCTAssertFalse(leaders.values.isEmpty, "b took over")
        assertFalse(try await a.acquireLease("jobs", holder: "a", ttlMs: 400))
        runB.cancel()
        _ = await runB.result
        assertTrue(try await a.acquireLease("jobs", holder: "a", ttlMs: 400), "b released it when it stopped")
        await a.database.close()
        await b.database.close()
    }

    /// PostgreSQL: once enough events have arrived since the table was last analyzed, the jobs analyze
    /// it (the planner otherwise sorted every match of a common `q`); then not again until more have.
    func testPlannerStatisticsAreRefreshedAfterABurst() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            let job = BackgroundJobs.statistics(minimumChanges: 20)
            assertEqual(try await s.post((0..<30).map { sampleEvent(["instance_id": "burst", "seq": $0]) }, token: g.token).status, 202)
            guard s.store.dialect == .postgres else {
                assertEqual(try await s.store.refreshPlannerStatistics(minimumChanges: 20), false)
                return try await job.run(s.store)
            }
            let analyzed = { () async throws -> Int64 in
                try await s.store.database.first(SQLStatement(
                    "SELECT analyze_count FROM pg_stat_user_tables WHERE relid = 'events'::regclass"))?.int(0) ?? -1
            }
            assertEqual(try await analyzed(), 0)
            // The inserting connections report their counts to the statistics within seconds.
            var refreshed = false
            for _ in 0..<60 where !refreshed {
                refreshed = try await s.store.refreshPlannerStatistics(minimumChanges: 20)
                if !refreshed { try await Task.sleep(for: .milliseconds(500)) }
            }
            XCTAssertTrue(refreshed, "30 new events and the table never analyzed")
            try await Task.sleep(for: .seconds(1))
            try await job.run(s.store)
            assertEqual(try await analyzed(), 1, "analyzed once, not again without new changes")
        }
    }

    func testRetentionPrunesInSteps() async throws {
        try await forEachBackend { s in
            let g = try await s.group()
            let old = Timestamps.format(Timestamps.nowMs() - 40 * 86_400_000)
            let events = (0..<25).map { sampleEvent(["time": old, "instance_id": "old", "seq": $0]) }
                + [sampleEvent(["time": Timestamps.format(Timestamps.nowMs()), "instance_id": "new", "seq": 1])]
            assertEqual(try await s.post(events, token: g.token).status, 202)
            let job = BackgroundJobs.retention(retentionMs: 30 * 86_400_000, step: 10, maxSteps: 2)
            try await job.run(s.store)
            assertEqual(try await s.events("limit=1000").count, 6, "two steps of 10")
            try await job.run(s.store)
            assertEqual(try await s.events("limit=1000").compactMap { $0["instance_id"] as? String }, ["new"])
            // Alerts that are done with (delivered, dead) go with their events; pending ones stay.
            let oldMs = Timestamps.nowMs() - 40 * 86_400_000
            _ = try await s.store.database.query(SQLStatement(
                "INSERT INTO alert_destinations (id, name, kind, target, match, enabled, created_ms, created_by, updated_ms) VALUES ('d', 'd', 'webhook', 'http://x', '{}', 1, 0, 't', 0)"))
            for (id, state, created) in [("old-delivered", "delivered", oldMs), ("old-dead", "dead", oldMs), ("old-pending", "pending", oldMs), ("new-delivered", "delivered", Timestamps.nowMs())] {
                _ = try await s.store.database.query(SQLStatement("""
                    INSERT INTO alerts (id, destination_id, throttle_key, group_key, follow_up, window_end_ms, first_event_id, last_event_id, count, severity,
                                        action, detail, created_ms, state, attempts, next_attempt_ms) VALUES (?, 'd', ?, 'g', 0, 0, 1, 1, 1, 'high', 'blocked', '{}', ?, ?, 1, 0)
                    """, [.text(id), .text(id), .int(created), .text(state)]))
            }
            try await job.run(s.store)
            let left = try await s.store.database.query(SQLStatement("SELECT id FROM alerts ORDER BY id")).compactMap { $0.text(0) }
            assertEqual(left, ["new-delivered", "old-pending"])
        }
    }
}

/// `kitsune server` as a separate process (so it can be killed), on a free loopback port.
struct ServerProcess {
    let process: Process
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    /// `log`: a file that receives the server's stdout and stderr.
    init(_ storeArgs: [String], log: String? = nil) throws {
        port = try PostgresCluster.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: ReliabilityTests.kitsune)
        process.arguments = ["server", "--listen", "127.0.0.1:\(port)", "--rate-limit", "0"] + storeArgs
        let output = log.flatMap { FileManager.default.createFile(atPath: $0, contents: nil) ? FileHandle(forWritingAtPath: $0) : nil }
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = output ?? FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if let r = try? PostgresCluster.run(["/usr/bin/curl", "-fsS", "http://127.0.0.1:\(port)/readyz"]), r.contains("ready") { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        process.terminate()
        throw TestFailure("kitsune server did not become ready on port \(port)")
    }

    func kill(_ signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }
}

extension TestHTTP {
    static func json(_ method: String, _ url: String, token: String, body: Any? = nil) async throws -> [String: Any] {
        let r = try await request(method, url, token: token, body: try body.map { try JSONSerialization.data(withJSONObject: $0) })
        return (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any]) ?? ["status": r.status]
    }
}

/// Counters shared by concurrent test clients.
final class Counts: Sendable {
    private let storage = Mutex<[String: Int]>([:])
    func set(_ key: String, _ value: Int) { storage.withLock { $0[key] = value } }
    var values: [String: Int] { storage.withLock { $0 } }
}
