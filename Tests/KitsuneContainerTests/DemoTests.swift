import Foundation
import XCTest

/// `kitsune demo --container` tells its story end to end (runc, a loopback attacker server).
final class ContainerDemoTests: XCTestCase {
    func testDemoBlocksTheMinerThenReportsIt() throws {
        let h = try ContainerHarness()
        defer { h.cleanUp() }
        let r = try h.run([h.kitsune, "demo", "--container", "--json"], timeout: 180)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(lines.map { $0["mode"] as? String }, ["enforce", "audit"])
        let enforce = lines[0], audit = lines[1]
        XCTAssertEqual(enforce["miner_downloaded"] as? Bool, true)
        XCTAssertEqual(enforce["miner_ran"] as? Bool, false)
        XCTAssertEqual(audit["miner_ran"] as? Bool, true)
        let blocked = (enforce["events"] as? [[String: Any]] ?? []).filter { $0["action"] as? String == "blocked" }
        XCTAssertEqual(blocked.first?["executable"] as? String, "/tmp/xmrig")
        XCTAssertEqual(blocked.first?["reasons"] as? [String], ["blocklist", "drift"])
    }
}
