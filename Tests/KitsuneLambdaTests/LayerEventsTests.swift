import Foundation
import XCTest
@testable import KitsuneLambda

/// What the layer says about an invocation: events carry the request id (learned by the enforcer's
/// Runtime API relay), honeypot credentials raise events, and events reach KITSUNE_EVENTS_URL
/// before the invocation's response leaves.
extension LayerEndToEndTests {
    var allowlist: String { "version: 1\nmode: MODE\npackage: [/var/task, /opt]\nallow: [/bin/sh, /var/task/bin/convert]\n" }

    func testEventsNameTheInvocationAndDecoyCredentialsRaiseHoneypotEvents() throws {
        for mode in ["enforce", "audit"] {
            // The layer's default policy (honeypots on) plus the function's allowlist, in each mode.
            let layerDefault = String(decoding: try LayerBuilder.resource("policy.yaml"), as: UTF8.self)
            let policy = layerDefault.replacingOccurrences(of: "mode: enforce", with: "mode: \(mode)")
                + "allow: [/bin/sh, /var/task/bin/convert, /usr/bin/cat]\n"
            let lambda = try emulator(policy: policy)
            defer { lambda.shutdown() }
            let legit = lambda.invoke(event(["url": "https://example.com/report.pdf"]))
            XCTAssertEqual(legit.status, .success, legit.logs)
            XCTAssertTrue(events(legit.logs).filter { $0["action"] as? String != "started" }.isEmpty, legit.logs)

            let dump = lambda.invoke(event(["url": "x; env #"]))
            let refused = try XCTUnwrap(events(dump.logs).first { $0["reason"] as? String == "not_allowlisted" }, dump.logs)
            XCTAssertEqual(refused["action"] as? String, mode == "enforce" ? "blocked" : "reported")
            XCTAssertEqual(refused["request_id"] as? String, dump.requestId)
            XCTAssertEqual(refused["function_name"] as? String, "convert-doc")
            XCTAssertEqual(refused["function_version"] as? String, "$LATEST")
            XCTAssertEqual(refused["region"] as? String, "us-east-1")
            XCTAssertEqual((refused["trace_id"] as? String)?.hasPrefix("Root=1-"), true, "\(refused)")
            if mode == "audit" {
                // The dump ran: the decoys are in it, next to the real (emulator) credentials, untouched.
                let out = try body(dump)["stdout"] as? String ?? ""
                XCTAssertTrue(out.contains("AWS_BACKUP_ACCESS_KEY_ID=AKIA"), out)
                XCTAssertTrue(out.contains("AWS_ACCESS_KEY_ID=ASIAKITSUNELOCALEMU0"), out)
            }

            let steal = lambda.invoke(event(["url": "x; cat /tmp/backup/.aws/credentials #"]))
            XCTAssertEqual(steal.status, .success, steal.logs)
            XCTAssertTrue((try body(steal)["stdout"] as? String ?? "").contains("aws_secret_access_key = "), steal.payloadText)
            let honeypot = events(steal.logs).filter { $0["reason"] as? String == "honeypot" }
            XCTAssertTrue(honeypot.contains { $0["executable"] as? String == "/usr/bin/cat" }, steal.logs)
            let opened = try XCTUnwrap(honeypot.first { $0["file"] as? String == "/tmp/backup/.aws/credentials" }, steal.logs)
            XCTAssertEqual(opened["access"] as? String, "open")
            XCTAssertTrue(honeypot.allSatisfy { $0["request_id"] as? String == steal.requestId && $0["action"] as? String == "reported" },
                          "\(honeypot)")
        }
    }

    /// `KITSUNE_RUNTIME_RELAY=extension`: no relay in the function's path; request ids (and the account)
    /// from the Extensions API's INVOKE events, right in every invocation. With an events URL the relay
    /// is kept (a response is held back until its events are delivered).
    func testRequestIDsFromInvokeEventsWithoutTheRelay() throws {
        let lambda = try emulator(policy: allowlist.replacingOccurrences(of: "MODE", with: "audit"),
                                  environment: ["KITSUNE_RUNTIME_RELAY": "extension"])
        defer { lambda.shutdown() }
        let first = lambda.invoke(event(["url": "https://example.com/a.pdf"]))
        XCTAssertEqual(first.status, .success, first.logs)
        let started = try XCTUnwrap(events(first.logs).first { $0["action"] as? String == "started" }, first.logs)
        XCTAssertEqual(started["request_ids"] as? String, "extension", "\(started)")
        XCTAssertEqual(started["runtime_relay"] as? Bool, false, "\(started)")
        for _ in 0..<3 {
            // The function's environment names the real API: nothing sits between it and Lambda.
            let dump = lambda.invoke(event(["url": "x; env #"]))
            XCTAssertEqual(dump.status, .success, dump.logs)
            let out = try body(dump)["stdout"] as? String ?? ""
            XCTAssertTrue(out.contains("AWS_LAMBDA_RUNTIME_API=127.0.0.1:\(lambda.port)\n"), out)
            let reported = try XCTUnwrap(events(dump.logs).first { $0["reason"] as? String == "not_allowlisted" }, dump.logs)
            XCTAssertEqual(reported["request_id"] as? String, dump.requestId, "\(reported)")
            XCTAssertEqual(reported["account_id"] as? String, "123456789012", "\(reported)")
        }
        let collector = try Collector()
        defer { collector.stop() }
        let shipping = try emulator(policy: nil, environment: ["KITSUNE_RUNTIME_RELAY": "extension",
                                                               "KITSUNE_EVENTS_URL": "http://127.0.0.1:\(collector.port)/v1/events"])
        defer { shipping.shutdown() }
        let r = shipping.invoke(event(["url": "https://example.com/a.pdf"]))
        XCTAssertEqual(r.status, .success, r.logs)
        XCTAssertEqual(events(r.logs).first?["request_ids"] as? String, "relay", r.logs)
    }

    func testEventsAreShippedBeforeTheResponseLeavesAndBenignInvocationsSendNothing() throws {
        let collector = try Collector()
        defer { collector.stop() }
        let lambda = try emulator(policy: allowlist.replacingOccurrences(of: "MODE", with: "enforce"), environment: [
            "KITSUNE_EVENTS_URL": "http://localhost:\(collector.port)/v1/events", "KITSUNE_EVENTS_TOKEN": "t0ken"])
        defer { lambda.shutdown() }
        // Init: the `started` event goes out before the runtime asks for its first event.
        XCTAssertEqual(lambda.invoke(event(["url": "https://example.com/a.pdf"])).status, .success)
        let afterInit = try collector.batches()
        XCTAssertEqual(afterInit.flatMap { $0.events }.map { $0["action"] as? String }, ["started"])
        XCTAssertEqual(afterInit.first?.authorization, "Bearer t0ken")
        XCTAssertEqual(afterInit.first?.contentType, "application/json")
        for _ in 0..<3 { XCTAssertEqual(lambda.invoke(event(["url": "https://example.com/b.pdf"])).status, .success) }
        XCTAssertEqual(try collector.batches().count, afterInit.count, "benign invocations must not post anything")

        let attack = lambda.invoke(event(["url": "x; env #"]))
        // No waiting: the batch was delivered while the response was held back.
        let shipped = try collector.batches().dropFirst(afterInit.count).flatMap { $0.events }
        let blocked = try XCTUnwrap(shipped.first { $0["reason"] as? String == "not_allowlisted" }, "\(shipped)")
        XCTAssertEqual(blocked["request_id"] as? String, attack.requestId)
        XCTAssertEqual(blocked["action"] as? String, "blocked")

        // One instance per cold start; the account from the invocation's function ARN (not known at init).
        let started = try XCTUnwrap(afterInit.first?.events.first)
        let instance = try XCTUnwrap(started["instance_id"] as? String)
        XCTAssertEqual(instance.count, 32)
        XCTAssertEqual(started["seq"] as? Int, 1)
        XCTAssertNil(started["account_id"], "\(started)")
        XCTAssertEqual(afterInit.first?.batch, "\(instance)-1")
        XCTAssertEqual(blocked["instance_id"] as? String, instance)
        XCTAssertGreaterThan(blocked["seq"] as? Int ?? 0, 1)
        XCTAssertEqual(blocked["account_id"] as? String, "123456789012", "\(blocked)")
        let last = try XCTUnwrap(try collector.batches().last)
        XCTAssertEqual(last.batch, "\(instance)-\(last.events.first?["seq"] as? Int ?? -1)")
    }

    func testEventsReachAnHTTPSCollectorThroughKitsuneShip() throws {
        // A self-signed certificate for localhost; the function trusts it through KITSUNE_EVENTS_CA_FILE,
        // shipped in the package (the emulator's /tmp is the sandbox's own).
        let dir = try Fixture.temporaryDirectory()
        let cert = dir.appendingPathComponent("collector.pem").path, key = dir.appendingPathComponent("collector.key").path
        _ = try Fixture.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], tool: "openssl")
        let collector = try Collector(tls: (cert, key))
        defer { collector.stop() }
        let lambda = try emulator(policy: allowlist.replacingOccurrences(of: "MODE", with: "enforce"), caFile: cert, environment: [
            "KITSUNE_EVENTS_URL": "https://localhost:\(collector.port)/v1/events", "KITSUNE_EVENTS_CA_FILE": "/var/task/collector-ca.pem",
            "KITSUNE_EVENTS_TOKEN": "tls-t0ken"])
        defer { lambda.shutdown() }
        XCTAssertEqual(lambda.invoke(event(["url": "https://example.com/a.pdf"])).status, .success)
        let before = try collector.batches().count
        XCTAssertEqual(before, 1, "the started event, at init")
        let attack = lambda.invoke(event(["url": "x; env #"]))
        XCTAssertFalse(attack.logs.contains("events_undelivered"), attack.logs)
        let shipped = try collector.batches().dropFirst(before).flatMap { $0.events }
        XCTAssertEqual(shipped.first { $0["reason"] as? String == "not_allowlisted" }?["request_id"] as? String, attack.requestId, "\(shipped)")
        XCTAssertEqual(try collector.batches().last?.authorization, "Bearer tls-t0ken")
    }

    func testAnUnreachableCollectorNeverBreaksTheFunction() throws {
        let lambda = try emulator(policy: allowlist.replacingOccurrences(of: "MODE", with: "enforce"),
                                      environment: ["KITSUNE_EVENTS_URL": "http://127.0.0.1:9/events", "KITSUNE_EVENTS_TIMEOUT_MS": "300"])
        defer { lambda.shutdown() }
        let attack = lambda.invoke(event(["url": "x; env #"]))
        XCTAssertEqual(attack.status, .success, attack.logs)
        XCTAssertTrue(attack.logs.contains("\"reason\":\"not_allowlisted\""), attack.logs)
        let legit = lambda.invoke(event(["url": "https://example.com/a.pdf"]))
        XCTAssertEqual(legit.status, .success, legit.logs)
        let failures = events(attack.logs + legit.logs).filter { $0["reason"] as? String == "events_undelivered" }
        XCTAssertFalse(failures.isEmpty, attack.logs)
        XCTAssertEqual(failures.first?["action"] as? String, "error")
    }

    func testLargePayloadsCrossTheRelayUnchanged() throws {
        let lambda = try emulator(policy: nil)
        defer { lambda.shutdown() }
        // 2 MB into the function (an unused field of the event), 3 MB back (the command's output):
        // many reads and writes each way through the relay.
        let pad = String(repeating: "0123456789abcdef", count: 131_072)
        let r = lambda.invoke(event(["url": "x; head -c 3000000 /dev/zero | tr '\\0' k; echo #", "pad": pad]))
        XCTAssertEqual(r.status, .success, String(r.logs.prefix(2000)))
        let out = try body(r)["stdout"] as? String ?? ""
        XCTAssertEqual(out.count, "converting x\n".count + 3_000_000 + 1, String(out.prefix(200)))
        XCTAssertTrue(out.hasSuffix(String(repeating: "k", count: 100) + "\n"))
        XCTAssertEqual(lambda.invoke(event(["url": "https://example.com/a.pdf"])).status, .success)
    }

    func testNodeRuntimeThroughTheLayerAndItsRelay() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/node") else {
            throw TestToolMissing(message: "/usr/bin/node is missing: apt-get install nodejs")
        }
        let code = try Fixture.package([("node/index.js", "index.js", 0o644)])
        let layer = try Fixture.temporaryDirectory()
        try LayerBuilder.install(enforcer: try enforcerBinary(), policy: nil, into: layer)
        _ = try? Fixture.run(["/bin/chmod", "-R", "a+rX", layer.path], tool: "coreutils")
        let lambda = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "index.handler", runtime: "nodejs20.x", layers: [layer],
            environment: ["AWS_LAMBDA_EXEC_WRAPPER": LayerBuilder.wrapperPath]))
        defer { lambda.shutdown() }
        let first = lambda.invoke(InvocationRequest(payload: Data(#"{"a":1}"#.utf8)))
        XCTAssertEqual(first.status, .success, first.payloadText + first.logs)
        XCTAssertEqual(try first.json()["requestId"] as? String, first.requestId)
        XCTAssertTrue(first.logs.contains("\"runtime_relay\":true,\"request_ids\":\"relay\""), first.logs)
        let failed = lambda.invoke(InvocationRequest(payload: Data(#"{"action":"error"}"#.utf8)))
        XCTAssertEqual(failed.status, .functionError, failed.logs)
        XCTAssertEqual(failed.errorType, "TypeError")
        XCTAssertEqual(try lambda.invoke(InvocationRequest(payload: Data("{}".utf8))).json()["count"] as? Int, 3)
    }

    func testABadEventsURLFailsTheInitClearly() throws {
        for (url, why) in [("ftp://x/y", "must start with http:// or https://"), ("http://c:8080:x/", "bad port"),
                           ("http://host:99999/", "bad port")] {
            let lambda = try emulator(policy: nil as String?, environment: ["KITSUNE_EVENTS_URL": url])
            defer { lambda.shutdown() }
            let r = lambda.invoke(event(["url": "https://example.com/a.pdf"]))
            XCTAssertEqual(r.status, .error, r.logs)
            XCTAssertTrue(r.logs.contains("KITSUNE_EVENTS_URL=\(url): \(why)"), r.logs)
        }
    }
}

/// The Python events collector (Fixtures/layer/collector.py) on a loopback port.
final class Collector {
    let process = Process()
    let port: Int
    let file: URL

    struct Batch {
        var authorization: String?
        var contentType: String?
        var batch: String?
        var events: [[String: Any]]
    }

    init(tls: (certificate: String, key: String)? = nil) throws {
        file = try Fixture.temporaryDirectory().appendingPathComponent("batches.jsonl")
        let script = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/layer/collector.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, file.path] + (tls.map { [$0.certificate, $0.key] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard let p = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestToolMissing(message: "events collector did not start: \(line)")
        }
        port = p
    }

    func batches() throws -> [Batch] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return Batch(authorization: o["authorization"] as? String, contentType: o["content_type"] as? String,
                         batch: o["batch"] as? String, events: o["events"] as? [[String: Any]] ?? [])
        }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
