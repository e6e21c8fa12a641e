import Foundation
import KitsuneServer
import XCTest
@testable import KitsuneLambda

/// The whole path, for real: the Lambda layer in the local emulator, a function attacked, its events
/// posted over HTTPS by kitsune-ship to `kitsune server`, and found there by request id.
extension LayerEndToEndTests {
    func testAttackEventsReachKitsuneServerOverHTTPSAndAreQueryableByRequestID() async throws {
        let dir = try Fixture.temporaryDirectory()
        let cert = dir.appendingPathComponent("server.pem").path, key = dir.appendingPathComponent("server.key").path
        _ = try Fixture.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], tool: "openssl")
        let store = try await ServerStore.open(data: dir.appendingPathComponent("data").path, databaseURL: nil)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.tlsCertificate = cert
        configuration.tlsKey = key
        let plane = ControlPlane(configuration: configuration, store: store)
        let (group, token) = try await store.createGroup(name: "lambda", actor: "test")
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = try plane.application { portSink.yield($0) }
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let next = await iterator.next()
        let port = try XCTUnwrap(next)

        let lambda = try emulator(policy: allowlist.replacingOccurrences(of: "MODE", with: "enforce"), caFile: cert, environment: [
            "KITSUNE_EVENTS_URL": "https://localhost:\(port)/api/v1/events", "KITSUNE_EVENTS_CA_FILE": "/var/task/collector-ca.pem",
            "KITSUNE_EVENTS_TOKEN": token.text])
        defer { lambda.shutdown() }
        XCTAssertEqual(lambda.invoke(event(["url": "https://example.com/a.pdf"])).status, .success)
        let attack = lambda.invoke(event(["url": "x; env #"]))
        XCTAssertFalse(attack.logs.contains("events_undelivered") || attack.logs.contains("events_rejected"), attack.logs)

        // Queried as a user would: the API, over HTTPS, by request id.
        let admin = try await store.createAPIToken(role: .viewer, name: "e2e", actor: "test").text
        // The sidecar ships asynchronously: poll for a while (it normally takes well under a second).
        var answer = "", stored: [[String: Any]] = []
        for _ in 0..<50 where !stored.contains(where: { $0["reason"] as? String == "not_allowlisted" }) {
            if !answer.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            answer = try Fixture.run(["/usr/bin/curl", "-sS", "--fail-with-body", "--cacert", cert, "-H", "Authorization: Bearer " + admin,
                                      "https://localhost:\(port)/api/v1/events?request_id=\(attack.requestId)&limit=50"], tool: "curl")
            let listed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], answer)
            stored = try XCTUnwrap(listed["events"] as? [[String: Any]], answer)
        }
        XCTAssertTrue(stored.allSatisfy { $0["request_id"] as? String == attack.requestId }, answer)
        let blocked = try XCTUnwrap(stored.first { $0["reason"] as? String == "not_allowlisted" }, answer)
        XCTAssertEqual(blocked["action"] as? String, "blocked")
        XCTAssertEqual(blocked["function_name"] as? String, "convert-doc")
        // The started event registered the instance: the fleet knows what is in force there.
        let fleet = try await store.fleet(sinceMs: 0)
        XCTAssertEqual(fleet.map(\.functionName), ["convert-doc"])
        XCTAssertEqual(fleet.first?.current.groupID, group.id)
        XCTAssertNotNil(fleet.first?.current.facts, "\(fleet)")
        XCTAssertEqual(fleet.first?.current.mode, "enforce")
    }
}
