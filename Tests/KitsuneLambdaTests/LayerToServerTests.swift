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

        var filter = EventFilter()
        filter.exact["request_id"] = [attack.requestId]
        let stored = try await store.events(filter, limit: 10, after: nil).events
        let blocked = try XCTUnwrap(stored.compactMap { try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any] }
            .first { $0["reason"] as? String == "not_allowlisted" }, "\(stored)")
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
