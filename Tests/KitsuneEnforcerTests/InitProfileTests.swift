import Foundation
import XCTest

/// `KITSUNE_INIT_PROFILE=1` (bench/init-profile.sh): the enforcer's start-up phases and notification
/// counts on stderr — and nothing at all without it.
final class InitProfileTests: XCTestCase {
    let f = EnforcerFixture.shared

    func profileLines(_ stderr: String) -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for line in stderr.split(separator: "\n") where line.hasPrefix("kitsune-init-profile: ") {
            let words = line.split(separator: " ")
            var values: [String: Int] = [:]
            for w in words.dropFirst(2) {
                let kv = w.split(separator: "=")
                if kv.count == 2, let v = Int(kv[1]) { values[String(kv[0])] = v }
            }
            out[String(words[1])] = values
        }
        return out
    }

    func testPhasesAndNotificationCountsOnlyWhenAsked() throws {
        let script = "\(f.tool); \(f.tool); sleep 0.1"
        let quiet = try f.enforce([], ["/bin/sh", "-c", script])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertFalse(quiet.stderr.contains("kitsune-init-profile"), quiet.stderr)

        let r = try f.enforce([], ["/bin/sh", "-c", script], environment: ["KITSUNE_INIT_PROFILE": "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "PAYLOAD RAN\nPAYLOAD RAN\n", "the command's own output is untouched")
        let p = profileLines(r.stderr)
        let parent = try XCTUnwrap(p["parent"], r.stderr)
        let child = try XCTUnwrap(p["child"], "[\(r.stderr)]")
        let order = ["policy", "probe", "events", "honeypots", "runtime_api", "sidecar", "standby", "filter", "listener", "started"]
        XCTAssertEqual(Set(parent.keys), Set(order))
        let times = order.compactMap { parent[$0] }
        XCTAssertEqual(times, times.sorted(), "phases end in order: \(parent)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(child["seccomp"]), try XCTUnwrap(child["exec"]))
        XCTAssertLessThanOrEqual(try XCTUnwrap(parent["filter"]), try XCTUnwrap(child["child_start"]))
        // Landlock only where it applies (enforce mode, a kernel that has it).
        XCTAssertEqual(child["landlock"] != nil, r.started?["mechanisms"].flatMap { ($0 as? [String: Any])?["landlock"] as? Bool } ?? false)
        // The shell, two runs of the tool and `sleep`: each an exec and its libc mapping; the last line counts all.
        let counts = try XCTUnwrap(p["notifications"], r.stderr)
        XCTAssertEqual(counts["execve"], 4, r.stderr)
        XCTAssertGreaterThanOrEqual(counts["mmap"] ?? 0, 4, r.stderr)
        XCTAssertGreaterThanOrEqual(counts["first"] ?? -1, parent["listener"] ?? 0)

        let off = try f.enforce([], ["/bin/true"], environment: ["KITSUNE_INIT_PROFILE": "yes"])
        XCTAssertFalse(off.stderr.contains("kitsune-init-profile"), "only `1` turns it on: \(off.stderr)")
    }
}
