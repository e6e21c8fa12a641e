import Foundation
import XCTest

/// Controls 3 and 4: blocklist (name, path, sha256 — even inside the package) and allowlist.
final class ListTests: XCTestCase {
    let f = EnforcerFixture.shared

    func testBlocklistByNameEvenInsidePackage() throws {
        let miner = f.package.appendingPathComponent("bin/xmrig").path
        try f.install(f.tool, as: miner)
        let r = try f.enforce([], ["/bin/sh", "-c", "\(miner); echo exit=$?"])
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        let e = try XCTUnwrap(r.decisions("blocklist").first, "\(r.events)")
        XCTAssertEqual(e["executable"] as? String, miner)
        XCTAssertEqual(e["action"] as? String, "blocked")
        let a = try f.enforce([], ["/bin/sh", "-c", miner], mode: "audit")
        XCTAssertTrue(a.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(a.decisions("blocklist").first?["action"] as? String, "reported")
    }

    func testBlocklistBySha256SurvivesRenaming() throws {
        let renamed = f.package.appendingPathComponent("bin/innocent-name").path
        try f.install(f.tool, as: renamed)
        let digest = try f.sha256(f.tool)
        let r = try f.enforce(["--block", "sha256:\(digest)"], ["/bin/sh", "-c", "\(renamed); echo exit=$?"])
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        let e = try XCTUnwrap(r.decisions("blocklist").first)
        XCTAssertEqual(e["sha256"] as? String, digest)
        XCTAssertEqual(e["executable"] as? String, renamed)
        // Upper-case hex is accepted too; an unrelated program is untouched.
        let ok = try f.enforce(["--block", "sha256:\(digest.uppercased())"], ["/bin/echo", "fine"])
        XCTAssertEqual(ok.stdout, "fine\n")
    }

    func testBlocklistByPathAndThroughTheLoader() throws {
        let r = try f.enforce(["--block", f.tool], ["/bin/sh", "-c", "\(f.tool); \(f.loader) \(f.tool); echo exit=$?"])
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(r.decisions("blocklist").count, 2, "\(r.events)")
    }

    func testAllowlistStopsTheServerlessGoatEnvInjection() throws {
        // The function legitimately runs its packaged tool; the injected `; env` must die.
        let cmd = ["/bin/sh", "-c", "\(f.tool); /usr/bin/env; echo exit=$?"]
        let r = try f.enforce(["--allow", f.tool, "--allow", "/bin/echo"], cmd, environment: ["SECRET_ACCESS_KEY": "hunter2"])
        XCTAssertTrue(r.stdout.contains("PAYLOAD RAN"), r.stdout)
        XCTAssertFalse(r.stdout.contains("hunter2"), "env dumped the environment")
        XCTAssertTrue(r.stdout.contains("exit=126"), r.stdout)
        let e = try XCTUnwrap(r.decisions("not_allowlisted").first, "\(r.events)")
        XCTAssertEqual(e["executable"] as? String, "/usr/bin/env")
        XCTAssertEqual(r.control("allowlist"), "kernel+supervisor")

        let a = try f.enforce(["--allow", f.tool], cmd, mode: "audit", environment: ["SECRET_ACCESS_KEY": "hunter2"])
        XCTAssertTrue(a.stdout.contains("hunter2"))
        XCTAssertEqual(a.decisions("not_allowlisted").first?["action"] as? String, "reported")
    }

    func testAllowlistIsKernelEnforcedWithoutTheSupervisor() throws {
        let r = try f.enforce(["--allow", f.tool], ["/bin/sh", "-c", "\(f.tool); /usr/bin/id; echo exit=$?"],
                              environment: ["KITSUNE_SIMULATE_MISSING": "unotify"])
        XCTAssertTrue(r.stdout.contains("PAYLOAD RAN"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("exit=126"), r.stdout)
        XCTAssertEqual(r.control("allowlist"), "kernel")
    }

    func testAllowlistDirectoryEntry() throws {
        let r = try f.enforce(["--allow", f.package.appendingPathComponent("bin").path + "/"], ["/bin/sh", "-c", "\(f.tool); /bin/true; echo exit=$?"])
        XCTAssertTrue(r.stdout.contains("PAYLOAD RAN"))
        XCTAssertTrue(r.stdout.contains("exit=126"))
    }

    func testAPathSearchReportsOneRefusalNotOnePerDirectory() throws {
        // dash retries a refused exec in every PATH directory; /usr/bin and /bin are one directory here.
        let r = try f.enforce(["--allow", "/bin/sh"], ["/bin/sh", "-c", "PATH=/usr/bin:/bin; env; echo rc=$?"])
        XCTAssertTrue(r.stdout.contains("rc=126") || r.stdout.contains("rc=127"), r.stdout + r.stderr)
        XCTAssertEqual(r.decisions("not_allowlisted").count, 1, "\(r.decisions)")
    }
}
