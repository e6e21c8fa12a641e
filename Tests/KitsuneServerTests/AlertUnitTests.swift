import Crypto
import Foundation
import XCTest
@testable import KitsuneServer

/// The pure parts of alerting: severity table, matching, throttling, formatting, signing.
final class AlertUnitTests: XCTestCase {
    let table = try! SeverityTable.bundled.get()

    func event(_ id: Int64, reason: String? = "drift", action: String = "blocked", function: String? = "api", receivedMs: Int64 = 1_000_000,
               argv: [String] = ["/tmp/m"]) -> AlertEvent {
        AlertEvent(id: id, receivedMs: receivedMs, timeMs: receivedMs, action: action, reason: reason, mode: "enforce",
                   functionName: function, accountID: "123456789012", region: "eu-west-1", executable: "/tmp/m", argv: argv)
    }

    func testSeverityComesFromTheBundledTable() throws {
        XCTAssertEqual(table.levels, ["low", "medium", "high", "critical"])
        XCTAssertEqual(table.severity(reason: "honeypot"), "critical")
        XCTAssertEqual(table.severity(reason: "blocklist"), "high")
        XCTAssertEqual(table.severity(reason: "something_new"), table.defaultLevel)
        XCTAssertEqual(table.severity(reason: "honeypot_files"), "critical", "an unlisted honeypot reason is still the top level")
        XCTAssertThrowsError(try SeverityTable.parse(Data(#"{"levels":["a"],"default":"a","reasons":{"x":"b"}}"#.utf8)))
    }

    func testGlobsAndMatch() throws {
        XCTAssertTrue(Glob.matches("api-*", "api-orders"))
        XCTAssertTrue(Glob.matches("*-prod", "web-prod"))
        XCTAssertTrue(Glob.matches("a?c", "abc"))
        XCTAssertFalse(Glob.matches("api-*", "web-api-x"))
        XCTAssertFalse(Glob.matches("api", "api2"))
        var m = AlertMatch()
        XCTAssertTrue(m.matches(event(1), severity: "medium", table: table), "an empty match takes everything")
        m.functions = ["api*"]; m.actions = ["blocked"]; m.minSeverity = "high"
        XCTAssertFalse(m.matches(event(1), severity: "medium", table: table), "below min_severity")
        XCTAssertTrue(m.matches(event(1, reason: "blocklist"), severity: "high", table: table))
        XCTAssertFalse(m.matches(event(1, reason: "blocklist", action: "reported"), severity: "high", table: table))
        XCTAssertFalse(m.matches(event(1, reason: "blocklist", function: "web"), severity: "high", table: table))
        XCTAssertFalse(m.matches(event(1, reason: "blocklist", function: nil), severity: "high", table: table))
        m = AlertMatch(); m.accounts = ["999999999999"]
        XCTAssertFalse(m.matches(event(1), severity: "medium", table: table))
    }

    func testMatchParsingNamesTheField() throws {
        func bad(_ json: String) -> String? {
            var s = JSONScanner(Array(json.utf8))
            do { _ = try AlertMatch.parse(try s.document(), table: table); return nil } catch let e as ParameterError { return e.parameter } catch { return "scan" }
        }
        XCTAssertEqual(bad(#"{"reason": ["x"]}"#), "match.reason")
        XCTAssertEqual(bad(#"{"min_severity": "huge"}"#), "match.min_severity")
        XCTAssertEqual(bad(#"{"accounts": ["12"]}"#), "match.accounts[0]")
        XCTAssertEqual(bad(#"{"functions": "api"}"#), "match.functions")
        XCTAssertEqual(bad(#"[]"#), "match")
        XCTAssertNil(bad(#"{"reasons": ["drift"], "min_severity": "low", "functions": ["a*"]}"#))
        var w = JSONWriter()
        var m = AlertMatch(); m.reasons = ["drift"]; m.minSeverity = "high"; m.functions = ["x*"]; m.accounts = ["123456789012"]
        m.write(into: &w)
        XCTAssertEqual(AlertMatch.stored(w.text), m, "what is stored reads back the same")
    }

    func testThrottlingFoldsAWindowIntoOneAlertAndAFollowUp() throws {
        var t = AlertThrottler(windowMs: 60_000, open: [])
        for i in 1...5 { t.add(event(Int64(i), receivedMs: 1_000_000 + Int64(i)), destinationID: "d", severity: "medium", nowMs: 1_000_010) }
        t.add(event(6, reason: "blocklist"), destinationID: "d", severity: "high", nowMs: 1_000_010)
        t.add(event(7, function: "other"), destinationID: "d", severity: "medium", nowMs: 1_000_010)
        var inserted = t.changes.compactMap { if case .insert(let a) = $0 { return a }; return nil }
        XCTAssertEqual(inserted.count, 3, "one alert per function + reason")
        XCTAssertEqual(inserted[0].count, 5)
        XCTAssertEqual(inserted[0].firstEventID, 1)
        XCTAssertEqual(inserted[0].lastEventID, 5)
        XCTAssertEqual(inserted[0].windowEndMs, 1_000_001 + 60_000)

        // The first alert was sent: more events in its window make one follow-up, due when the window closes.
        var sent = inserted[0]; sent.state = .delivered; sent.attempts = 1
        t = AlertThrottler(windowMs: 60_000, open: [sent])
        for i in 8...10 { t.add(event(Int64(i), receivedMs: 1_030_000), destinationID: "d", severity: "medium", nowMs: 1_030_000) }
        inserted = t.changes.compactMap { if case .insert(let a) = $0 { return a }; return nil }
        XCTAssertEqual(inserted.count, 1)
        XCTAssertTrue(inserted[0].followUp)
        XCTAssertEqual(inserted[0].count, 3)
        XCTAssertEqual(inserted[0].nextAttemptMs, sent.windowEndMs)
        XCTAssertEqual(inserted[0].throttleKey, sent.throttleKey + "|follow-up")

        // Still waiting (not attempted): raised in place, in the store.
        var waiting = sent; waiting.state = .pending; waiting.attempts = 0
        t = AlertThrottler(windowMs: 60_000, open: [waiting])
        t.add(event(11, receivedMs: 1_030_000), destinationID: "d", severity: "medium", nowMs: 1_030_000)
        t.add(event(12, receivedMs: 1_030_000), destinationID: "d", severity: "medium", nowMs: 1_030_000)
        XCTAssertEqual(t.changes, [.add(alertID: waiting.id, by: 2, lastEventID: 12)])

        // After the window: a new alert.
        t = AlertThrottler(windowMs: 60_000, open: [sent])
        t.add(event(13, receivedMs: sent.windowEndMs), destinationID: "d", severity: "medium", nowMs: sent.windowEndMs)
        inserted = t.changes.compactMap { if case .insert(let a) = $0 { return a }; return nil }
        XCTAssertEqual(inserted.count, 1)
        XCTAssertFalse(inserted[0].followUp)
        XCTAssertEqual(inserted[0].throttleKey, AlertThrottler.groupKey(destinationID: "d", event: event(13)) + "|13", "keys are deterministic")
    }

    func alert(argv: [String], function: String = "api") -> Alert {
        let e = event(1, function: function, argv: argv)
        return Alert(id: "alr_x", destinationID: "d", throttleKey: "k", groupKey: "g", followUp: false, windowEndMs: 2, firstEventID: 1,
                     lastEventID: 1, count: 1, severity: "high", event: e, createdMs: 1, nextAttemptMs: 1)
    }

    func testSlackTextIsInertForMentionsAndLinks() throws {
        let hostile = ["sh", "-c", "<!channel> <http://evil.example|click> & <@U123> `rm -rf` *bold*\n<script>alert(1)</script>"]
        let text = AlertFormat.slack(alert(argv: hostile, function: "<!here>"), destinationName: "ops")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let blocks = try XCTUnwrap(doc["blocks"] as? [[String: Any]])
        let section = try XCTUnwrap((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        let all = section + (doc["text"] as? String ?? "")
        for raw in ["<!channel>", "<http://", "<@U123>", "<!here>", "<script>"] { XCTAssertFalse(all.contains(raw), "\(raw) survived: \(all)") }
        XCTAssertTrue(section.contains("&lt;!channel&gt; &lt;http://evil.example|click&gt; &amp; &lt;@U123&gt;"), section)
        XCTAssertFalse(section.contains("`rm"), "a backtick in argv cannot end the code span")
        XCTAssertEqual(AlertFormat.slackEscape("a&b<c>d"), "a&amp;b&lt;c&gt;d")
    }

    func testJSONCarriesHostileAndHugeFieldsSafely() throws {
        let huge = String(repeating: "A", count: 100_000)
        let argv = ["<script>alert(1)</script>", "\"},{\"x\":1", "\u{0}\u{1b}[31m", huge] + (0..<100).map { "arg\($0)" }
        var a = alert(argv: AlertEvent.argv(fromBody: String(decoding: try JSONSerialization.data(withJSONObject: ["argv": argv]), as: UTF8.self)))
        a.event.functionName = huge
        let text = AlertFormat.json(a, destinationName: "x")
        XCTAssertLessThan(text.utf8.count, 64 << 10, "bounded")
        XCTAssertFalse(text.contains("<script>"), "< and > are escaped in the JSON text")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let event = try XCTUnwrap(doc["event"] as? [String: Any])
        let got = try XCTUnwrap(event["argv"] as? [String])
        XCTAssertEqual(got[0], "<script>alert(1)</script>", "decodes back to the very text")
        XCTAssertEqual(got[1], "\"},{\"x\":1")
        XCTAssertEqual(got.count, AlertEvent.maxArgs + 1)
        XCTAssertTrue(got[3].hasSuffix("…(100000 bytes)"))
        XCTAssertTrue(got.last!.hasPrefix("…("))
        XCTAssertLessThanOrEqual((event["function_name"] as? String)?.count ?? 0, AlertEvent.maxField + 20)
        XCTAssertEqual(doc["id"] as? String, "alr_x")
        let subject = AlertFormat.snsSubject(a)
        XCTAssertLessThanOrEqual(subject.count, 100)
        XCTAssertTrue(subject.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
    }

    func testSignatureIsHMACSHA256OfTimestampAndBody() throws {
        // RFC 4231 test case 2, through the same construction: key "Jefe", message "what do ya want for nothing?".
        let mac = HMAC<SHA256>.authenticationCode(for: Data("what do ya want for nothing?".utf8), using: SymmetricKey(data: Data("Jefe".utf8)))
        XCTAssertEqual(mac.map { String(format: "%02x", $0) }.joined(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(AlertFormat.signature(body: Array("body".utf8), secret: "k", unixSeconds: 1700000000),
                       "t=1700000000,v1=" + HMAC<SHA256>.authenticationCode(for: Data("1700000000.body".utf8), using: SymmetricKey(data: Data("k".utf8)))
                        .map { String(format: "%02x", $0) }.joined())
    }

    func testTargetsAreCheckedAndHidden() throws {
        XCTAssertThrowsError(try AlertDestination.checkTarget("ftp://x/y", kind: .webhook))
        XCTAssertThrowsError(try AlertDestination.checkTarget("https://u:p@x/y", kind: .slack))
        XCTAssertThrowsError(try AlertDestination.checkTarget("arn:aws:sns:eu-west-1:12:t", kind: .sns))
        XCTAssertNoThrow(try AlertDestination.checkTarget("arn:aws:sns:eu-west-1:123456789012:t", kind: .sns))
        let d = AlertDestination(id: "d", name: "n", kind: .slack, target: "https://hooks.slack.com/services/T0/B0/SECRET", secret: nil,
                                 match: AlertMatch(), enabled: true, createdMs: 0, updatedMs: 0)
        XCTAssertEqual(d.targetHint, "https://hooks.slack.com/…")
    }
}
