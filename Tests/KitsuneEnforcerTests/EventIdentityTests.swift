import Foundation
import XCTest

/// Events carry what a collector needs to store a retried batch once (docs/events.md): the instance
/// id of the run, a sequence number per event, the account id; and the shipper treats a final 4xx
/// as final and honours Retry-After — against a real collector on loopback (Fixtures/scripted_collector.py).
final class EventIdentityTests: XCTestCase {
    let f = EnforcerFixture.shared

    /// The scripted collector: its port and what it received.
    final class ScriptedCollector {
        let process: Process
        let port: Int
        let log: URL

        init(answers: String, tls: (cert: String, key: String)? = nil) throws {
            log = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kitsune-collector-\(UUID().uuidString).jsonl")
            (process, port) = try EnforcerFixture.startServer("scripted_collector.py", [log.path, answers] + (tls.map { [$0.cert, $0.key] } ?? []))
        }

        func posts() throws -> [[String: Any]] {
            guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
            return try text.split(separator: "\n").map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        }

        /// The events of each POST.
        func batches() throws -> [[[String: Any]]] {
            try posts().map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(($0["body"] as? String ?? "").utf8)) as? [[String: Any]]) }
        }

        func stop() {
            process.terminate()
            _ = EnforcerFixture.reap(process, timeout: 5)
            try? FileManager.default.removeItem(at: log)
        }
    }

    func isInstanceID(_ v: Any?) -> Bool {
        guard let s = v as? String else { return false }
        return s.count == 32 && s.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    func testEveryEventCarriesTheInstanceAndAnIncreasingSequence() throws {
        let cmd = ["/bin/sh", "-c", "\(f.payload); \(f.payload) again; \(f.payload) third; true"]
        let one = try f.enforce([], cmd, environment: ["KITSUNE_ACCOUNT_ID": "123456789012"])
        let two = try f.enforce([], cmd, environment: ["KITSUNE_ACCOUNT_ID": "12345678901x"])
        for run in [one, two] {
            XCTAssertGreaterThanOrEqual(run.events.count, 4, "\(run.events)")
            XCTAssertEqual(run.started?["seq"] as? Int, 1)
            let id = run.events.first?["instance_id"]
            XCTAssertTrue(isInstanceID(id), "\(String(describing: id))")
            XCTAssertTrue(run.events.allSatisfy { $0["instance_id"] as? String == id as? String }, "\(run.events)")
            let seqs = run.events.compactMap { $0["seq"] as? Int }
            XCTAssertEqual(seqs.count, run.events.count)
            XCTAssertEqual(seqs, seqs.sorted(), "written in increasing order")
            XCTAssertEqual(Set(seqs).count, seqs.count, "distinct")
            XCTAssertEqual(seqs, Array(1...seqs.count), "no gaps in a run without other writers")
        }
        XCTAssertNotEqual(one.events.first?["instance_id"] as? String, two.events.first?["instance_id"] as? String, "one id per start")
        // KITSUNE_ACCOUNT_ID is taken only when it is a 12-digit account id.
        XCTAssertTrue(one.events.allSatisfy { $0["account_id"] as? String == "123456789012" }, "\(one.events)")
        XCTAssertTrue(two.events.allSatisfy { $0["account_id"] == nil }, "\(two.events)")
    }

    /// A final 4xx drops the batch (never retried) and is reported once with the status and the
    /// start of the answer's body; the next events go in a new batch. Over HTTP and over HTTPS
    /// (through kitsune-ship).
    func testAFinalRejectionDropsTheBatchAndIsReported() throws {
        let pki = try ShipTests.pki.get()
        for (answer, tls) in [("400::long", false), ("413::batch too large", false), ("401::bad token", true), ("422::long", true)] {
            let collector = try ScriptedCollector(answers: "\(answer),202", tls: tls ? (pki.cert, pki.key) : nil)
            defer { collector.stop() }
            let scheme = tls ? "https://localhost" : "http://127.0.0.1"
            let run = try f.enforce([], ["/bin/sh", "-c", "sleep 0.5; \(f.payload); sleep 0.5; true"], environment: [
                "KITSUNE_EVENTS_URL": "\(scheme):\(collector.port)/api/v1/events", "KITSUNE_EVENTS_TOKEN": "t0ken",
                "KITSUNE_EVENTS_CA_FILE": pki.ca])
            let status = Int(answer.prefix(3))!
            let rejected = run.events.filter { $0["reason"] as? String == "events_rejected" }
            XCTAssertEqual(rejected.count, 1, "\(answer): \(run.events)")
            let r = try XCTUnwrap(rejected.first)
            XCTAssertEqual(r["action"] as? String, "error")
            XCTAssertEqual(r["status"] as? Int, status)
            let text = String(answer.dropFirst(5))
            XCTAssertEqual(r["detail"] as? String, text == "long" ? String(repeating: "x", count: 200) : text, answer)
            XCTAssertEqual(r["rejected"] as? Int, 1)
            XCTAssertFalse(run.events.contains { $0["reason"] as? String == "events_undelivered" }, "\(run.events)")

            let posts = try collector.posts()
            let batches = try collector.batches()
            XCTAssertEqual(posts.count, 2, "\(answer): the rejected batch is never sent again: \(posts)")
            let id = try XCTUnwrap(run.started?["instance_id"] as? String)
            XCTAssertEqual(posts.first?["batch"] as? String, "\(id)-1")
            XCTAssertEqual(batches.first?.map { $0["action"] as? String }, ["started"])
            let second = try XCTUnwrap(batches.last)
            XCTAssertFalse(second.contains { $0["action"] as? String == "started" }, "dropped, not resent")
            XCTAssertEqual(second.first?["reason"] as? String, "drift", "\(second)")
            XCTAssertEqual(posts.last?["batch"] as? String, "\(id)-\(second.first?["seq"] as? Int ?? -1)")
            XCTAssertEqual(posts.last?["authorization"] as? String, "Bearer t0ken")
        }
    }

    /// 429/503 with Retry-After: the batch waits that long (capped at 5 minutes), then goes again
    /// under the same batch id, with what was queued meanwhile.
    func testRetryAfterIsHonouredAndTheRetryKeepsItsBatchID() throws {
        let collector = try ScriptedCollector(answers: "429:1,202")
        defer { collector.stop() }
        let run = try f.enforce([], ["/bin/sh", "-c", "sleep 0.3; \(f.payload); sleep 1.2; \(f.payload) again; sleep 0.3; true"], environment: [
            "KITSUNE_EVENTS_URL": "http://127.0.0.1:\(collector.port)/api/v1/events"])
        let undelivered = run.events.filter { $0["reason"] as? String == "events_undelivered" }
        XCTAssertEqual(undelivered.count, 1, "\(run.events)")
        XCTAssertEqual(undelivered.first?["retry_after_ms"] as? Int, 1000)
        XCTAssertTrue((undelivered.first?["detail"] as? String)?.hasSuffix(": HTTP 429") == true, "\(undelivered)")
        let posts = try collector.posts()
        XCTAssertEqual(posts.count, 2, "\(posts)")
        guard posts.count == 2 else { return }
        let id = try XCTUnwrap(run.started?["instance_id"] as? String)
        XCTAssertEqual(posts[0]["batch"] as? String, "\(id)-1")
        XCTAssertEqual(posts[1]["batch"] as? String, "\(id)-1", "a retry keeps the id of the batch it extends")
        let waited = (posts[1]["received"] as? Double ?? 0) - (posts[0]["received"] as? Double ?? 0)
        XCTAssertGreaterThanOrEqual(waited, 1.0, "Retry-After: 1 was not honoured")
        let events = try collector.batches()[1]
        XCTAssertEqual(events.first?["seq"] as? Int, 1)
        XCTAssertEqual(events.filter { $0["reason"] as? String == "drift" }.count, 2, "\(events)")

        // A Retry-After beyond 5 minutes is capped; a 503 without one falls back to the back-off.
        let slow = try ScriptedCollector(answers: "503:100000")
        defer { slow.stop() }
        let capped = try f.enforce([], ["/bin/true"], environment: ["KITSUNE_EVENTS_URL": "http://127.0.0.1:\(slow.port)/e"])
        XCTAssertEqual(capped.events.first { $0["reason"] as? String == "events_undelivered" }?["retry_after_ms"] as? Int, 300_000,
                       "\(capped.events)")
    }
}
