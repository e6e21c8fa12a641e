import Foundation
import XCTest

/// `kitsune server` as a user runs it: the built binary, its options, its tokens, its logs, and
/// replicas sharing one PostgreSQL.
final class ServerCommandTests: XCTestCase {
    private func kitsune(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try PostgresCluster.execute([ReliabilityTests.kitsune] + arguments)
    }

    private func adminToken(_ storeArgs: [String]) throws -> String {
        let out = try PostgresCluster.run([ReliabilityTests.kitsune, "server", "token", "create", "--role", "admin", "--name", "t"] + storeArgs)
        return try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("kit_") }.map(String.init), out)
    }

    /// Every bad option: a message naming it, a non-zero exit, and no data directory left behind.
    func testBadOptionsAreRefusedByName() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = dir + "/data"
        let cases: [([String], String)] = [
            (["server", "--listen", "0.0.0.0:0", "--data", data], "--listen 0.0.0.0"),
            (["server", "--listen", "10.1.2.3:8443", "--data", data], "loopback"),
            (["server", "--listen", "127.0.0.1", "--data", data], "--listen 127.0.0.1"),
            (["server", "--listen", "127.0.0.1:99999", "--data", data], "--listen"),
            (["server", "--retention", "30x", "--data", data], "--retention 30x"),
            (["server", "--stale-after", "-1h", "--data", data], "--stale-after"),
            (["server", "--rate-limit", "-5", "--data", data], "--rate-limit"),
            (["server", "--tls-cert", dir + "/missing.pem", "--tls-key", dir + "/missing.key", "--data", data], "missing.pem"),
            (["server", "--tls-cert", dir + "/missing.pem", "--data", data], "--tls-key"),
            (["server", "--public-url", "not a url", "--data", data], "--public-url"),
            (["server", "--database", "mysql://root@db/x"], "--database"),
            (["server", "--database", "postgres://@127.0.0.1/x"], "no user"),
            (["server", "token", "create", "--role", "root", "--data", data], "--role root"),
            (["server", "token", "create", "--role", "ingest", "--data", data], "--role ingest"),
        ]
        for (arguments, expected) in cases {
            let r = try kitsune(arguments)
            XCTAssertNotEqual(r.status, 0, "\(arguments) was accepted: \(r.output)")
            XCTAssertTrue(r.output.contains(expected), "\(arguments): expected the message to name \(expected): \(r.output)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: data), "a refused command created the data directory")
    }

    /// `token create` works while the server runs; no token's secret ever reaches the server's log or
    /// a later response.
    func testTokensWhileRunningAndNeverInLogsOrResponses() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storeArgs = ["--data", dir + "/data"]
        let first = try adminToken(storeArgs)
        let log = dir + "/server.log"
        let server = try ServerProcess(storeArgs, log: log)
        defer { server.kill() }
        let second = try adminToken(storeArgs)   // the server is running
        let groups = try await TestHTTP.request("GET", server.base + "/api/v1/enforcer-groups", token: second)
        XCTAssertEqual(groups.status, 200, "a token created while the server runs works at once")
        let made = try await TestHTTP.json("POST", server.base + "/api/v1/enforcer-groups", token: first, body: ["name": "web"])
        let groupToken = try XCTUnwrap(made["token"] as? String, "\(made)")
        let forged = groupToken.dropLast(4) + "0000"
        let posted = try await TestHTTP.request("POST", server.base + "/api/v1/events", token: groupToken,
                                                body: try JSONSerialization.data(withJSONObject: [sampleEvent()]))
        XCTAssertEqual(posted.status, 202)
        let refused = try await TestHTTP.request("POST", server.base + "/api/v1/events", token: String(forged),
                                                 body: try JSONSerialization.data(withJSONObject: [sampleEvent()]))
        XCTAssertEqual(refused.status, 401)
        var later = ""
        for path in ["/api/v1/enforcer-groups", "/api/v1/tokens", "/api/v1/audit", "/api/v1/events", "/api/v1/enforcers", "/metrics"] {
            let r = try await TestHTTP.request("GET", server.base + path, token: first)
            XCTAssertEqual(r.status, 200, path)
            later += String(decoding: r.body, as: UTF8.self)
        }
        server.kill(SIGTERM)
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(logged.contains("listening on"), "the log was not captured: \(logged)")
        for token in [first, second, groupToken, String(forged)] {
            let secret = String(token.split(separator: "_").last ?? "")
            XCTAssertEqual(secret.count, 64, "256-bit secrets")
            XCTAssertFalse(logged.contains(secret), "a token's secret is in the server's log")
            XCTAssertFalse(later.contains(secret), "a token's secret is in a later response")
        }
    }

    /// Two `kitsune server` processes on one PostgreSQL serve the same data; the background jobs run
    /// on exactly one of them, and move to the other when it stops.
    func testReplicasShareOnePostgres() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storeArgs = ["--database", try PostgresCluster.newDatabase()]
        let admin = try adminToken(storeArgs)
        let a = try ServerProcess(storeArgs, log: dir + "/a.log")
        defer { a.kill() }
        let b = try ServerProcess(storeArgs, log: dir + "/b.log")
        defer { b.kill() }
        let made = try await TestHTTP.json("POST", a.base + "/api/v1/enforcer-groups", token: admin, body: ["name": "shared"])
        let groupToken = try XCTUnwrap(made["token"] as? String, "\(made)")
        let batch = (1...10).map { sampleEvent(["instance_id": "replicas", "seq": $0]) }
        let posted = try await TestHTTP.request("POST", b.base + "/api/v1/events", token: groupToken, body: try JSONSerialization.data(withJSONObject: batch))
        XCTAssertEqual(posted.status, 202, "a group made on one replica posts through the other")
        for replica in [a, b] {
            let stats = try await TestHTTP.json("GET", replica.base + "/api/v1/events/stats?group_by=function", token: admin)
            XCTAssertEqual(stats["total"] as? Int, 10, "\(stats)")
        }
        let took = "took the background-jobs lease"
        func holders() -> [Bool] { [dir + "/a.log", dir + "/b.log"].map { ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "").contains(took) } }
        XCTAssertEqual(holders().filter { $0 }.count, 1, "exactly one replica runs the background jobs: \(holders())")
        let leader = holders()[0] ? a : b, other = holders()[0] ? dir + "/b.log" : dir + "/a.log"
        leader.kill(SIGTERM)   // a clean stop releases the lease; the other replica takes it at its next tick
        var moved = false
        for _ in 0..<150 where !moved {
            try await Task.sleep(for: .milliseconds(100))
            moved = ((try? String(contentsOfFile: other, encoding: .utf8)) ?? "").contains(took)
        }
        XCTAssertTrue(moved, "the other replica took the background jobs over")
    }
}
