import Foundation
import KitsuneAWS
import XCTest
@testable import KitsuneServer

/// SNS destinations through the real SigV4 client stack against moto's server on loopback, with an
/// http subscription to a loopback receiver so the published message is seen arriving.
final class AlertSNSTests: XCTestCase {
    func testPublishReachesASubscriberWithTheAlertIDAndHonoursAWSEndpointURL() async throws {
        let port = try PostgresCluster.freePort()
        let moto = Process()
        moto.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        moto.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "\(port)"]
        moto.standardOutput = FileHandle.nullDevice
        moto.standardError = FileHandle.nullDevice
        try moto.run()
        defer { kill(moto.processIdentifier, SIGKILL); moto.waitUntilExit() }
        var ready = false
        for _ in 0..<150 where !ready {
            ready = (try? PostgresCluster.run(["/usr/bin/curl", "-fsS", "http://127.0.0.1:\(port)/moto-api/"])) != nil
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else { throw TestFailure("moto did not start (CI must install pip 'moto[server]')") }

        // The server's way: the credential chain and AWS_ENDPOINT_URL from the environment.
        let environment = AWSEnvironment(variables: ["AWS_ENDPOINT_URL": "http://127.0.0.1:\(port)", "AWS_ACCESS_KEY_ID": "AKIAKITSUNETEST00001",
                                                     "AWS_SECRET_ACCESS_KEY": "kitsune-test-secret", "AWS_DEFAULT_REGION": "us-east-1"],
                                         homeDirectory: NSTemporaryDirectory() + "/kitsune-no-home-\(UUID().uuidString)")
        let client = try AWSClient.fromEnvironment(environment)
        let topic = try await client.inRegion("eu-west-1").sns.createTopic(name: "kitsune-alerts")
        let receiver = try AlertTestReceiver()
        defer { receiver.stop() }
        _ = try await client.inRegion("eu-west-1").sns.subscribe(topicARN: topic, protocol: "http", endpoint: "http://127.0.0.1:\(receiver.port)/sns")

        let sender = HTTPAlertSender(aws: { client })   // us-east-1 client: the topic's region is taken from its ARN
        let destination = AlertDestination(id: "dst_sns", name: "sns", kind: .sns, target: topic, secret: nil, match: AlertMatch(),
                                           enabled: true, createdMs: 0, updatedMs: 0)
        let event = AlertEvent(id: 9, receivedMs: 1, timeMs: 1, action: "blocked", reason: "honeypot", functionName: "api",
                               argv: ["cat", "<!channel> \u{1b}[2J ünïcödé"])
        let alert = Alert(id: "alr_sns_1", destinationID: "dst_sns", throttleKey: "k", groupKey: "g", followUp: false, windowEndMs: 2,
                          firstEventID: 9, lastEventID: 9, count: 1, severity: "critical", event: event, createdMs: 1, nextAttemptMs: 1)
        let result = await sender.deliver(alert, to: destination, test: false)
        XCTAssertTrue(result.delivered, "\(result)")
        XCTAssertTrue(result.detail.hasPrefix("message "))

        let arrived = await receiver.wait(seconds: 20) { r, _ in r.contains { $0.json?["Type"] as? String == "Notification" } }
        XCTAssertTrue(arrived, "no notification reached the subscriber: \(receiver.requests.map { String(decoding: $0.body, as: UTF8.self) })")
        let note = try XCTUnwrap(receiver.requests.compactMap(\.json).first { $0["Type"] as? String == "Notification" })
        let message = try XCTUnwrap((note["Message"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        XCTAssertEqual(message["id"] as? String, "alr_sns_1")
        XCTAssertEqual((message["event"] as? [String: Any])?["argv"] as? [String], ["cat", "<!channel> \u{1b}[2J ünïcödé"])
        XCTAssertEqual(note["Subject"] as? String, "Kitsune critical: honeypot blocked in api")
        // moto's http notifications leave MessageAttributes out (real SNS sends them), so the
        // `kitsune_alert_id` attribute is not checked here; the id travels in the message as well.
        XCTAssertEqual(note["TopicArn"] as? String, topic, "published in the topic's region")

        // A topic that does not exist: not retryable, said plainly.
        var missing = destination
        missing.target = "arn:aws:sns:eu-west-1:123456789012:nope"
        let failed = await sender.deliver(alert, to: missing, test: false)
        XCTAssertFalse(failed.delivered)
        XCTAssertFalse(failed.retryable, "\(failed)")
    }
}
