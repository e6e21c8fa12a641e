import Foundation
import XCTest

/// Control 5: audit mode reports exactly what enforce mode blocks — same rule, same file — and never
/// blocks; enforce mode blocks it and the caller keeps running.
final class ParityTests: XCTestCase {
    let f = EnforcerFixture.shared

    func testAuditReportsExactlyWhatEnforceBlocks() throws {
        let script = f.writable.appendingPathComponent("parity.sh").path
        try f.write("echo script\n", to: script, mode: 0o644)
        let miner = f.package.appendingPathComponent("bin/kinsing").path
        try f.install(f.tool, as: miner)
        // Each attack is a separate process started by one shell, which must survive them all.
        let attacks = [
            f.payload,                                        // drift
            "\(f.attack) memfd-exec \(f.tool)",               // fileless
            "\(f.loader) \(f.payload)",                       // loader
            "/bin/sh \(script)",                              // interpreter_script
            miner,                                            // blocklist (inside the package)
            "/usr/bin/id",                                    // not_allowlisted
        ]
        let command = ["/bin/sh", "-c", attacks.joined(separator: "; ") + "; echo survived"]
        let allow = ["--allow", "/bin/sh", "--allow", f.attack, "--allow", f.loader]
        let enforced = try f.enforce(allow, command)
        let audited = try f.enforce(allow, command, mode: "audit")
        XCTAssertTrue(enforced.stdout.hasSuffix("survived\n"), enforced.stdout)
        XCTAssertTrue(audited.stdout.hasSuffix("survived\n"), audited.stdout)

        func execDecisions(_ r: EnforcedRun) -> [String] {
            r.decisions.filter { $0["syscall"] as? String != "mmap" }.map { e in
                "\(e["reason"] ?? "")|\(e["target"] ?? e["subject"] ?? e["executable"] ?? "")"
            }
        }
        XCTAssertEqual(Set(enforced.decisions.compactMap { $0["action"] as? String }), ["blocked"])
        XCTAssertEqual(Set(audited.decisions.compactMap { $0["action"] as? String }), ["reported"])
        XCTAssertEqual(execDecisions(enforced), execDecisions(audited))
        XCTAssertEqual(Set(enforced.decisions.compactMap { $0["reason"] as? String }),
                       ["drift", "fileless", "loader", "interpreter_script", "blocklist", "not_allowlisted"])
        // In audit mode everything actually ran.
        XCTAssertEqual(audited.stdout.components(separatedBy: "PAYLOAD RAN").count - 1, 4, audited.stdout)
        XCTAssertFalse(enforced.stdout.contains("PAYLOAD RAN"), enforced.stdout)
    }
}
