import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import KitsuneLambda

/// `kitsune demo`: the attack story on the emulator (AWS's awslambdaric, the Kitsune layer).
final class DemoTests: LambdaTestCase {
    func runner(_ modes: [DemoMode], story: DemoStory? = nil, parent: URL) throws -> DemoRunner {
        try Fixture.requireAwslambdaric()
        return try DemoRunner(options: DemoOptions(modes: modes, enforcer: try Fixture.enforcerBinary(), workspaceParent: parent),
                              story: story)
    }

    func testStoryInEnforceAndAuditMode() throws {
        let parent = try Fixture.temporaryDirectory()
        var streamed: [String] = []
        let run = try runner([.enforce, .audit], parent: parent).run { streamed.append("\($0.mode.rawValue)/\($0.step.id)") }
        XCTAssertEqual(streamed, ["enforce/legit", "enforce/env", "enforce/drop", "enforce/miner", "enforce/honeypot",
                                  "audit/legit", "audit/env", "audit/drop", "audit/miner", "audit/honeypot"])
        XCTAssertEqual(run.problems, [], run.steps.map(\.logs).joined(separator: "\n"))
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent.path), [], "the working directory is removed")

        // The legitimate request runs the packaged binary through the ELF loader, in both modes.
        for mode in DemoMode.allCases {
            let legit = try XCTUnwrap(run.result(mode, "legit"))
            XCTAssertEqual(legit.outcome, .succeeded, legit.logs)
            XCTAssertEqual(legit.answer.stdout, "JVBERi0xLjcgcmVwb3J0 <- converted https://example.com/report.pdf\n")
            XCTAssertTrue(legit.events.allSatisfy { $0.action != "blocked" }, legit.logs)
        }
        let cold = try XCTUnwrap(run.result(.enforce, "legit"))
        XCTAssertNotNil(cold.report.initDurationMs, "one cold start per mode, on the first step")
        XCTAssertEqual(cold.started?.mode, "enforce")
        XCTAssertNil(try XCTUnwrap(run.result(.enforce, "env")).report.initDurationMs)

        // Enforce: `; env` is refused by the allowlist; the credentials stay put.
        let env = try XCTUnwrap(run.result(.enforce, "env"))
        XCTAssertEqual(env.outcome, .blocked)
        XCTAssertFalse(env.evidenceSeen)
        XCTAssertTrue(env.answer.stderr.contains("env: Permission denied"), env.answer.stderr)
        XCTAssertEqual(env.headline?.reason, "not_allowlisted")
        XCTAssertEqual(env.headline?.executable, "/usr/bin/env")

        // Enforce: the function stages files in /tmp with cat and chmod (allowlisted), so the
        // dropped program is written, and refused when it runs: drift, or the blocklist for a miner name.
        let drop = try XCTUnwrap(run.result(.enforce, "drop"))
        XCTAssertEqual(drop.outcome, .blocked, drop.logs)
        XCTAssertFalse(drop.evidenceSeen, drop.answer.stdout)
        XCTAssertEqual(drop.headline?.reason, "drift")
        XCTAssertEqual(drop.headline?.executable, "/tmp/m")
        XCTAssertEqual(drop.headline?.requestId, drop.requestId)
        let enforcedMiner = try XCTUnwrap(run.result(.enforce, "miner"))
        XCTAssertEqual(enforcedMiner.outcome, .blocked, enforcedMiner.logs)
        XCTAssertEqual(enforcedMiner.headline?.reason, "blocklist")
        XCTAssertEqual(enforcedMiner.headline?.executable, "/tmp/xmrig")
        // The decoy credentials are let through in both modes; what the attacker reads is reported.
        for mode in DemoMode.allCases {
            let honeypot = try XCTUnwrap(run.result(mode, "honeypot"))
            XCTAssertEqual(honeypot.outcome, .reported, honeypot.logs)
            XCTAssertTrue(honeypot.evidenceSeen, "the decoy file was read: \(honeypot.answer.stdout)")
            XCTAssertEqual(honeypot.headline?.file, "/tmp/backup/.aws/credentials")
            XCTAssertEqual(honeypot.headline?.access, "open")
            XCTAssertTrue(honeypot.events.contains { $0.reason == "honeypot" && $0.executable == "/usr/bin/cat" }, honeypot.logs)
            XCTAssertFalse(honeypot.answer.stdout.contains("ASIAKITSUNELOCALEMU0"), "only decoys, never the real keys")
        }

        // Audit: everything runs, and every rule the chain breaks is reported.
        let leak = try XCTUnwrap(run.result(.audit, "env"))
        XCTAssertEqual(leak.outcome, .reported)
        XCTAssertTrue(leak.evidenceSeen, "env dumped the (dummy) credentials in audit mode")
        let auditedDrop = try XCTUnwrap(run.result(.audit, "drop"))
        XCTAssertEqual(auditedDrop.outcome, .reported)
        XCTAssertTrue(auditedDrop.evidenceSeen, auditedDrop.answer.stdout)
        XCTAssertEqual(auditedDrop.headline?.reason, "drift")
        XCTAssertEqual(auditedDrop.headline?.executable, "/tmp/m")
        XCTAssertEqual(auditedDrop.events.map(\.action), ["reported"], auditedDrop.logs)
        let miner = try XCTUnwrap(run.result(.audit, "miner"))
        XCTAssertEqual(miner.headline?.reason, "blocklist")
        XCTAssertEqual(miner.headline?.executable, "/tmp/xmrig")
        XCTAssertEqual(miner.headline?.reasons.first, "blocklist")
        XCTAssertTrue(miner.headline?.reasons.contains("drift") ?? false)

        // What a human reads.
        let renderer = DemoRenderer()
        let text = renderer.render(env)
        XCTAssertTrue(text.hasPrefix("[enforce 2/5] command injection dumping the credentials\n"), text)
        XCTAssertTrue(text.contains("    request  url = 'x; env'\n"), text)
        XCTAssertTrue(text.contains("    answer   exit 126: JVBERi0xLjcgcmVwb3J0 <- converted x\n"), text)
        XCTAssertTrue(text.contains("stderr: /bin/sh: 1: env: Permission denied"), text)
        XCTAssertTrue(text.contains("    REPORT   Duration: "), text)
        XCTAssertTrue(text.contains("    kitsune  BLOCKED  not_allowlisted  /usr/bin/env   argv: env"), text)
        XCTAssertTrue(text.contains("    =>       BLOCKED (not_allowlisted: env)"), text)
        XCTAssertTrue(renderer.render(cold).contains("kitsune-enforcer started in enforce mode"))
        let auditDrop = renderer.render(auditedDrop)
        XCTAssertTrue(auditDrop.contains("REPORTED drift            /tmp/m   argv: /tmp/m --version   (also: not_allowlisted)"), auditDrop)
        XCTAssertTrue(auditDrop.contains("it worked: base64 (GNU coreutils)"), auditDrop)
        let summary = renderer.summary(run)
        let table = summary.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        XCTAssertTrue(table.contains("request enforce audit"), summary)
        XCTAssertTrue(table.contains("legitimate request succeeded succeeded"), summary)
        XCTAssertTrue(table.contains("credentials dump (; env) blocked (not_allowlisted: env) reported (not_allowlisted: env)"), summary)
        XCTAssertTrue(table.contains("drop-and-run in /tmp blocked (drift: m) reported (drift: m)"), summary)
        XCTAssertTrue(table.contains("miner name (xmrig) blocked (blocklist: xmrig) reported (blocklist: xmrig)"), summary)
        XCTAssertTrue(summary.contains("As expected: every attack was blocked in enforce mode"), summary)

        // What a machine reads: one object per step with the enforcer's events as written.
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(renderer.json(env).utf8)) as? [String: Any])
        XCTAssertEqual(object["type"] as? String, "step")
        XCTAssertEqual(object["outcome"] as? String, "blocked")
        XCTAssertEqual(object["reason"] as? String, "not_allowlisted")
        let events = try XCTUnwrap(object["events"] as? [[String: Any]])
        XCTAssertEqual(events.first?["executable"] as? String, "/usr/bin/env")
        XCTAssertEqual(events.first?["function_name"] as? String, "convert-doc")
        let last = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(renderer.json(run).utf8)) as? [String: Any])
        XCTAssertEqual(last["exit_code"] as? Int, 0)
        XCTAssertEqual((last["outcomes"] as? [String: [String: String]])?["audit"]?["drop"], "reported")
    }

    /// An attack no exec-based control can see (the shell's own `echo` prints the key): it succeeds in
    /// enforce mode and the demo says so (exit 1).
    func testAnAttackThatSucceedsInEnforceModeFailsTheDemo() throws {
        var story = try DemoStory.bundled()
        story.steps = story.steps.filter { ["legit", "env"].contains($0.id) }
        story.steps[1].url = "x; echo AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY #"
        let parent = try Fixture.temporaryDirectory()
        let run = try runner([.enforce], story: story, parent: parent).run()
        let env = try XCTUnwrap(run.result(.enforce, "env"))
        XCTAssertEqual(env.outcome, .ran, env.logs)
        XCTAssertTrue(env.evidenceSeen)
        XCTAssertEqual(run.exitCode, 1)
        XCTAssertEqual(run.problems, ["credentials dump (; env): not blocked in enforce mode (ran)"])
        XCTAssertTrue(DemoRenderer().summary(run).contains("NOT as expected:\n  - credentials dump (; env): not blocked"))
    }

    func testSetupErrorsNameWhatIsMissing() throws {
        let parent = try Fixture.temporaryDirectory()
        let missing = parent.appendingPathComponent("no-such-kitsune-enforcer")
        let runner = try DemoRunner(options: DemoOptions(modes: [.enforce], enforcer: missing, workspaceParent: parent))
        XCTAssertThrowsError(try runner.run()) { error in
            let expected: DemoError = getuid() == 0 ? .enforcerMissing(missing.path) : .notRoot
            XCTAssertEqual(error as? DemoError, expected)
            XCTAssertTrue("\(error)".contains(getuid() == 0 ? "kitsune-enforcer not found at \(missing.path)" : "needs root"), "\(error)")
            XCTAssertTrue("\(error)".contains("swift build -c release") || getuid() != 0, "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent.path), [], "nothing is left behind")
        XCTAssertTrue(DemoError.awslambdaricMissing(interpreter: "/usr/bin/python3.11").description.contains("run scripts/setup"))
        XCTAssertThrowsError(try DemoMode.selection("bogus")) {
            XCTAssertEqual("\($0)", "--mode 'bogus': expected enforce, audit or both")
        }
        XCTAssertEqual(try DemoMode.selection("both"), [.enforce, .audit])
    }

    /// The demo's policy is the layer default with its mode set and the allowlist added; a
    /// `honeypot:` section is kept as is, and the result loads in the enforcer.
    func testPolicyKeepsTheLayerDefaultAndItsHoneypotSection() throws {
        let base = """
        # comment
        version: 1
        mode: enforce
        package: [/var/task, /opt]
        honeypot:
          files: [/tmp/backup/.aws/credentials]
        native_code: block

        """
        let text = try DemoPolicy.text(base: base, mode: .audit, allow: ["/bin/sh", "/var/task/bin/convert"])
        XCTAssertEqual(text, """
        # comment
        version: 1
        mode: audit
        package: [/var/task, /opt]
        honeypot:
          files: [/tmp/backup/.aws/credentials]
        native_code: block
        # kitsune demo: the only programs the demo function runs
        allow: [/bin/sh, /var/task/bin/convert]

        """)
        XCTAssertTrue(DemoPolicy.hasHoneypot(text))
        let file = try Fixture.temporaryDirectory().appendingPathComponent("policy.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try LayerBuilder.install(enforcer: try Fixture.enforcerBinary(), policy: file, into: try Fixture.temporaryDirectory()))
        XCTAssertThrowsError(try DemoPolicy.text(base: base + "allow: [/bin/ls]\n", mode: .enforce, allow: ["/bin/sh"]))

        // The shipped layer policy, whatever it holds today, still loads with the demo's additions.
        let shipped = String(decoding: try LayerBuilder.resource("policy.yaml"), as: UTF8.self)
        let demo = try DemoPolicy.text(base: shipped, mode: .enforce, allow: try DemoStory.bundled().function.allow)
        XCTAssertEqual(DemoPolicy.hasHoneypot(demo), DemoPolicy.hasHoneypot(shipped))
        try demo.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try LayerBuilder.install(enforcer: try Fixture.enforcerBinary(), policy: file, into: try Fixture.temporaryDirectory()))
    }
}
