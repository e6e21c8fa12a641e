import Foundation
import KitsunePolicy
import KitsunePolicyCore
import XCTest

/// Control 1: only what was deployed (package) or trusted (system roots) executes.
final class DriftTests: XCTestCase {
    let f = EnforcerFixture.shared

    func testPackagedAndSystemProgramsRun() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "\(f.tool) && /bin/echo system-ok"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "PAYLOAD RAN\nsystem-ok\n")
        XCTAssertTrue(r.decisions.isEmpty, "no decision expected: \(r.decisions)")
    }

    func testDroppedBinaryIsBlockedInEnforceAndReportedInAudit() throws {
        let cmd = ["/bin/sh", "-c", "\(f.payload); echo exit=$?"]
        let enforced = try f.enforce([], cmd)
        XCTAssertFalse(enforced.stdout.contains("PAYLOAD RAN"))
        XCTAssertTrue(enforced.stdout.contains("exit=126"), enforced.stdout)   // EACCES: the shell carries on
        let blocked = enforced.decisions("drift")
        XCTAssertEqual(blocked.count, 1)
        XCTAssertEqual(blocked.first?["action"] as? String, "blocked")
        XCTAssertEqual(blocked.first?["executable"] as? String, f.payload)
        XCTAssertEqual(blocked.first?["sha256"] as? String, try f.sha256(f.payload))

        let audited = try f.enforce([], cmd, mode: "audit")
        XCTAssertTrue(audited.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(audited.decisions("drift").first?["action"] as? String, "reported")
        XCTAssertEqual(audited.decisions("drift").first?["executable"] as? String, f.payload)
    }

    func testDriftIsRefusedByTheKernelEvenWithoutTheSupervisor() throws {
        // No user notification: Landlock alone refuses the exec.
        let r = try f.enforce([], ["/bin/sh", "-c", "\(f.payload); echo exit=$?"], environment: ["KITSUNE_SIMULATE_MISSING": "unotify"])
        XCTAssertTrue(r.stdout.contains("exit=126"), r.stdout)
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(r.control("drift"), "kernel")
    }

    func testShebangScriptInWritableDirIsDrift() throws {
        let script = f.writable.appendingPathComponent("drop.sh").path
        try f.write("#!/bin/sh\necho SCRIPT RAN\n", to: script)
        let r = try f.enforce([], ["/bin/sh", "-c", "\(script); echo exit=$?"])
        XCTAssertFalse(r.stdout.contains("SCRIPT RAN"))
        XCTAssertEqual(r.decisions("drift").first?["executable"] as? String, script)
    }

    func testGrandchildrenAreCovered() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "/bin/sh -c '/bin/sh -c \(f.payload)'; echo done"])
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(r.decisions("drift").count, 1)
        XCTAssertEqual(r.decisions("drift").first?["action"] as? String, "blocked")
    }

    func testManifestCatchesModifiedPackageFile() throws {
        // A container whose package directory is writable: content that differs from the inventory is drift.
        let pkg = f.root.appendingPathComponent("container-app")
        let bin = pkg.appendingPathComponent("bin/app").path
        try f.install(f.tool, as: bin)
        chmod(pkg.path, 0o755); chmod(pkg.appendingPathComponent("bin").path, 0o755)
        // The manifest `kitsune manifest` writes (same builder) is what the enforcer reads.
        let manifest = try ManifestBuilder.build(directory: pkg.path)
        XCTAssertEqual(manifest.files.map(\.path), ["bin/app"])
        let manifestPath = f.root.appendingPathComponent("manifest.json").path
        try manifest.jsonData().write(to: URL(fileURLWithPath: manifestPath))
        chmod(manifestPath, 0o644)

        let ok = try f.enforce(["--package", pkg.path, "--manifest", manifestPath], [bin])
        XCTAssertEqual(ok.stdout, "PAYLOAD RAN\n")
        XCTAssertTrue(ok.decisions.isEmpty, "\(ok.decisions)")
        XCTAssertEqual(ok.control("manifest"), "supervisor")

        // Same path, other content (the attacker overwrote it): drift.
        try f.install(f.attack, as: bin)
        let changed = try f.enforce(["--package", pkg.path, "--manifest", manifestPath], ["/bin/sh", "-c", "\(bin) ppid; echo exit=$?"])
        XCTAssertTrue(changed.stdout.contains("exit=126"), changed.stdout)
        XCTAssertEqual(changed.decisions("drift").first?["executable"] as? String, bin)

        // A new file beneath the manifest root that is not in the inventory: drift.
        let extra = pkg.appendingPathComponent("bin/new").path
        try f.install(f.tool, as: extra)
        let added = try f.enforce(["--package", pkg.path, "--manifest", manifestPath], ["/bin/sh", "-c", "\(extra); echo exit=$?"])
        XCTAssertFalse(added.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(added.decisions("drift").first?["executable"] as? String, extra)
    }
}
