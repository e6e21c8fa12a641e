import Crypto
import Foundation
import XCTest
@testable import KitsuneServer

/// Alerts end to end: the API, the evaluator over real ingested events, delivery to real loopback
/// receivers, retries, dead alerts, on SQLite and PostgreSQL.
final class AlertDeliveryTests: XCTestCase {
    static func fast(_ c: inout ServerConfiguration) {
        c.jobInterval = .milliseconds(100)
        c.alerts.retryBaseMs = 100
        c.alerts.retryMaxMs = 400
        c.alerts.maxAttempts = 4
        c.alerts.throttleWindowMs = 60_000
    }

    /// Waits for the evaluator's cursor to exist, so events posted next are evaluated.
    func started(_ s: TestServer) async throws {
        for _ in 0..<100 where try await s.store.alertCursor() == nil { try await Task.sleep(for: .milliseconds(50)) }
    }

    func testWebhookIsSignedRetriedWithBackOffAndKeepsItsID() async throws {
        try await forEachBackend(configure: Self.fast) { s in
            let receiver = try AlertTestReceiver { $0 <= 2 ? 500 : 200 }
            defer { receiver.stop() }
            let secret = "a-shared-secret-of-some-length"
            let created = try await s.json("POST", "/api/v1/alert-destinations", body: [
                "name": "hook", "kind": "webhook", "target": receiver.url, "secret": secret, "match": ["reasons": ["drift"]]])
            assertEqual(created.status, 201, "\(created.object)")
            let text = String(decoding: try JSONSerialization.data(withJSONObject: created.object), as: UTF8.self)
            assertFalse(text.contains("secret-token-in-path") || text.contains("s3cr3t") || text.contains(secret), "write-only: \(text)")
            assertEqual(created.object["target_hint"] as? String, "http://127.0.0.1:\(receiver.port)/…")
            let listed = try await s.request("GET", "/api/v1/alert-destinations", token: s.admin)
            assertFalse(String(decoding: listed.body, as: UTF8.self).contains("secret-token-in-path"))
            try await started(s)
            let g = try await s.group()
            let posted = try await s.post([sampleEvent(["argv": ["/tmp/m", "<script>alert(1)</script>", "\"}]"]])], token: g.token)
            assertEqual(posted.status, 202)
            let done = await receiver.wait { _, answered in answered.contains(200) }
            assertTrue(done, "delivered after two 500s; answered \(receiver.answered)")
            let requests = receiver.requests
            assertEqual(requests.count, 3)
            // Back-off: attempt 2 waits at least retryBaseMs (100 ms) after attempt 1, attempt 3 at least 200 ms after 2.
            let gaps = zip(requests.dropFirst(), requests).map { $0.time.timeIntervalSince($1.time) }
            assertTrue(gaps.count == 2 && gaps[0] >= 0.1 && gaps[1] >= 0.2, "gaps \(gaps)")
            let ids = Set(requests.map { $0.headers["kitsune-alert-id"] ?? "" })
            assertEqual(ids.count, 1, "every attempt carries the same alert id")
            let body = try XCTUnwrap(requests[2].json)
            assertEqual(body["id"] as? String, ids.first)
            assertEqual((body["event"] as? [String: Any])?["argv"] as? [String], ["/tmp/m", "<script>alert(1)</script>", "\"}]"])
            assertEqual(requests[2].path, "/hook/secret-token-in-path?key=s3cr3t")
            let sig = try XCTUnwrap(requests[2].headers["kitsune-signature"])
            let t = String(sig.split(separator: ",")[0].dropFirst(2))
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(t).".utf8) + requests[2].body, using: SymmetricKey(data: Data(secret.utf8)))
            assertEqual(sig, "t=\(t),v1=" + mac.map { String(format: "%02x", $0) }.joined())
            let alerts = try await s.json("GET", "/api/v1/alerts?state=delivered")
            let list = try XCTUnwrap(alerts.object["alerts"] as? [[String: Any]])
            assertEqual(list.count, 1)
            assertEqual(list.first?["id"] as? String, ids.first)
            assertEqual(list.first?["attempts"] as? Int, 3)
            assertEqual(list.first?["severity"] as? String, "medium")
        }
    }

    func testRoutesThrottlingAndHoneypotAlwaysAlerts() async throws {
        try await forEachBackend(configure: Self.fast) { s in
            let receiver = try AlertTestReceiver()
            defer { receiver.stop() }
            let created = try await s.json("POST", "/api/v1/alert-destinations", body: [
                "name": "blocked-api", "kind": "webhook", "target": receiver.url,
                "match": ["reasons": ["blocklist"], "actions": ["blocked"], "functions": ["api*"], "min_severity": "high"]])
            assertEqual(created.status, 201, "\(created.object)")
            try await started(s)
            let g = try await s.group()
            var events = (1...6).map { i in sampleEvent(["reason": "blocklist", "instance_id": "i1", "seq": i]) }
            events.append(sampleEvent(["reason": "drift", "instance_id": "i1", "seq": 7]))                           // not routed
            events.append(sampleEvent(["reason": "blocklist", "function_name": "web", "instance_id": "i1", "seq": 8])) // other function
            events.append(sampleEvent(["reason": "blocklist", "action": "reported", "instance_id": "i1", "seq": 9]))  // other action
            events.append(sampleEvent(["reason": "honeypot", "function_name": "web", "action": "reported", "instance_id": "i1", "seq": 10]))
            assertEqual(try await s.post(events, token: g.token).status, 202)
            let done = await receiver.wait { r, _ in r.count >= 2 }
            assertTrue(done, "got \(receiver.requests.count)")
            try await Task.sleep(for: .milliseconds(600))
            let bodies = receiver.requests.compactMap(\.json)
            assertEqual(bodies.count, 2, "\(bodies)")
            let byReason = Dictionary(bodies.map { (($0["event"] as? [String: Any])?["reason"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            assertEqual(byReason["blocklist"]?["count"] as? Int, 6, "six events, one alert")
            assertEqual(byReason["honeypot"]?["severity"] as? String, "critical", "honeypot use bypasses the route")
            assertEqual(try await s.events().count, 10, "raw events are all kept")
        }
    }

    func testSlackMessagesAreInert() async throws {
        try await forEachBackend(configure: Self.fast) { s in
            let receiver = try AlertTestReceiver()
            defer { receiver.stop() }
            _ = try await s.json("POST", "/api/v1/alert-destinations", body: ["name": "slack", "kind": "slack", "target": receiver.url])
            try await started(s)
            let g = try await s.group()
            _ = try await s.post([sampleEvent(["argv": ["sh", "<!channel> <http://evil.example|click here>", String(repeating: "x", count: 200_000)]])], token: g.token)
            let done = await receiver.wait { r, _ in !r.isEmpty }
            assertTrue(done)
            let raw = String(decoding: receiver.requests[0].body, as: UTF8.self)
            let doc = try XCTUnwrap(receiver.requests[0].json, raw)
            let section = (((doc["blocks"] as? [[String: Any]])?.first?["text"]) as? [String: Any])?["text"] as? String ?? ""
            assertTrue(section.contains("&lt;!channel&gt; &lt;http://evil.example|click here&gt;"), section)
            assertFalse(section.contains("<!channel>"))
            assertTrue(section.count <= 3000, "Slack's section limit: \(section.count)")
        }
    }

    func testDeadAfterMaxAttemptsVisibleAndRetryable() async throws {
        try await forEachBackend(configure: Self.fast) { s in
            let receiver = try AlertTestReceiver { _ in 503 }
            defer { receiver.stop() }
            _ = try await s.json("POST", "/api/v1/alert-destinations", body: ["name": "down", "kind": "webhook", "target": receiver.url])
            try await started(s)
            let g = try await s.group()
            _ = try await s.post([sampleEvent()], token: g.token)
            var dead: [[String: Any]] = []
            for _ in 0..<100 {
                dead = try await s.json("GET", "/api/v1/alerts?state=dead").object["alerts"] as? [[String: Any]] ?? []
                if !dead.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            assertEqual(dead.count, 1)
            assertEqual(dead.first?["attempts"] as? Int, 4)
            assertEqual(receiver.requests.count, 4, "max attempts, then no more")
            assertTrue((dead.first?["last_error"] as? String ?? "").contains("503"))
            assertFalse((dead.first?["last_error"] as? String ?? "").contains("secret-token"))
            let id = try XCTUnwrap(dead.first?["id"] as? String)
            let retried = try await s.json("POST", "/api/v1/alerts/\(id)/retry")
            assertEqual(retried.status, 200)
            assertEqual(retried.object["state"] as? String, "pending")
            assertEqual(try await s.json("POST", "/api/v1/alerts/\(id)/retry").status, 409, "only a dead alert")
        }
    }

    func testAPIRefusesBadInputByFieldAndViewersOnlyRead() async throws {
        try await forEachBackend { s in
            let cases: [([String: Any], String)] = [
                (["kind": "webhook", "target": "http://127.0.0.1/x"], "name"),
                (["name": "a", "kind": "pager", "target": "http://127.0.0.1/x"], "kind"),
                (["name": "a", "kind": "webhook", "target": "file:///etc/passwd"], "target"),
                (["name": "a", "kind": "sns", "target": "https://x"], "target"),
                (["name": "a", "kind": "slack", "target": "https://x/y", "secret": "0123456789abcdef"], "secret"),
                (["name": "a", "kind": "webhook", "target": "https://x/y", "secret": "short"], "secret"),
                (["name": "a", "kind": "webhook", "target": "https://x/y", "match": ["min_severity": "extreme"]], "match.min_severity"),
                (["name": "a", "kind": "webhook", "target": "https://x/y", "enabled": "yes"], "enabled"),
                (["name": "a", "kind": "webhook", "target": "https://x/y", "routes": []], "routes"),
            ]
            for (body, field) in cases {
                let r = try await s.json("POST", "/api/v1/alert-destinations", body: body)
                assertEqual(r.status, 400, "\(body)")
                assertEqual(r.object["field"] as? String, field, "\(body): \(r.object)")
            }
            let viewer = try await s.store.createAPIToken(role: .viewer, name: "v", actor: "t").text
            let denied = try await s.json("POST", "/api/v1/alert-destinations", token: viewer, body: ["name": "a", "kind": "webhook", "target": "https://x/y"])
            assertEqual(denied.status, 403)
            let made = try await s.json("POST", "/api/v1/alert-destinations", body: ["name": "a", "kind": "webhook", "target": "https://x/y"])
            assertEqual(made.status, 201)
            let id = try XCTUnwrap(made.object["id"] as? String)
            assertEqual(try await s.json("GET", "/api/v1/alert-destinations/\(id)", token: viewer).status, 200)
            assertEqual(try await s.json("POST", "/api/v1/alert-destinations", body: ["name": "a", "kind": "webhook", "target": "https://x/y"]).status, 409)
            let patched = try await s.json("PATCH", "/api/v1/alert-destinations/\(id)", body: ["enabled": false, "match": ["functions": ["api-*"]]])
            assertEqual(patched.status, 200, "\(patched.object)")
            assertEqual(patched.object["enabled"] as? Bool, false)
            assertEqual((patched.object["match"] as? [String: Any])?["functions"] as? [String], ["api-*"])
            assertEqual(try await s.json("GET", "/api/v1/alerts?state=lost").object["field"] as? String, "state")
            assertEqual(try await s.json("DELETE", "/api/v1/alert-destinations/\(id)").status, 204)
            assertEqual(try await s.json("GET", "/api/v1/alert-destinations/\(id)").status, 404)
        }
    }

    func testTestEndpointReportsTheDeliveryResult() async throws {
        try await forEachBackend { s in
            let receiver = try AlertTestReceiver { $0 == 1 ? 200 : 404 }
            defer { receiver.stop() }
            let made = try await s.json("POST", "/api/v1/alert-destinations", body: ["name": "t", "kind": "webhook", "target": receiver.url])
            let id = try XCTUnwrap(made.object["id"] as? String)
            let ok = try await s.json("POST", "/api/v1/alert-destinations/\(id)/test")
            assertEqual(ok.status, 200, "\(ok.object)")
            assertEqual(ok.object["delivered"] as? Bool, true)
            assertEqual(receiver.requests.first?.json?["type"] as? String, "kitsune.alert.test")
            assertEqual(receiver.requests.first?.headers["kitsune-alert-id"], ok.object["alert_id"] as? String)
            let refused = try await s.json("POST", "/api/v1/alert-destinations/\(id)/test")
            assertEqual(refused.status, 502)
            assertEqual(refused.object["status"] as? Int, 404)
            assertFalse((refused.object["detail"] as? String ?? "").contains("secret-token"))
            assertEqual((try await s.json("GET", "/api/v1/alerts").object["alerts"] as? [[String: Any]])?.count, 0, "test alerts do not enter the outbox")
        }
    }
}
