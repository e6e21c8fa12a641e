import Foundation
import XCTest

/// Control 8 (degradation), the started event, --probe, and bad input.
final class StartupTests: XCTestCase {
    let f = EnforcerFixture.shared

    func testStartedEventStatesMechanismsAndLambdaContext() throws {
        let r = try f.enforce([], ["/bin/true"], environment: ["AWS_LAMBDA_FUNCTION_NAME": "convert", "AWS_LAMBDA_FUNCTION_VERSION": "7", "AWS_REGION": "eu-west-1"])
        let s = try XCTUnwrap(r.started)
        XCTAssertEqual(s["mode"] as? String, "enforce")
        XCTAssertEqual(s["function_name"] as? String, "convert")
        XCTAssertEqual(s["function_version"] as? String, "7")
        XCTAssertEqual(s["region"] as? String, "eu-west-1")
        let mech = try XCTUnwrap(s["mechanisms"] as? [String: Any])
        XCTAssertEqual(mech["landlock"] as? Bool, true)
        XCTAssertEqual(mech["user_notification"] as? Bool, true)
        // Synchronous notification wake-ups exist from Linux 6.6 on, and are then always taken.
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        XCTAssertEqual(mech["notification_sync_wakeup"] as? Bool, version.count == 2 && (version[0], version[1]) >= (6, 6), release)
        XCTAssertEqual(r.control("drift"), "kernel+supervisor")
        XCTAssertEqual(r.control("loader"), "supervisor")
        let time = try XCTUnwrap(s["time"] as? String)
        XCTAssertNotNil(ISO8601DateFormatter.withFractionalSeconds.date(from: time), time)
    }

    func testDecisionEventCarriesTheContract() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", f.payload], environment: ["AWS_LAMBDA_FUNCTION_NAME": "convert", "AWS_REGION": "us-east-1"])
        let e = try XCTUnwrap(r.decisions.first)
        for key in ["time", "mode", "action", "reason", "executable", "argv", "sha256", "pid", "ppid", "function_name", "region"] {
            XCTAssertNotNil(e[key], "missing \(key) in \(e)")
        }
        XCTAssertEqual(e["argv"] as? [String], [f.payload])
        XCTAssertGreaterThan(e["ppid"] as? Int ?? 0, 1)
    }

    func testWithoutLandlockDriftFallsBackToTheSupervisorAndSaysSo() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "\(f.payload); echo exit=$?"], environment: ["KITSUNE_SIMULATE_MISSING": "landlock"])
        XCTAssertTrue(r.stdout.contains("exit=126"))
        XCTAssertEqual(r.control("drift"), "supervisor")
        let mech = try XCTUnwrap(r.started?["mechanisms"] as? [String: Any])
        XCTAssertEqual(mech["landlock"] as? Bool, false)
        XCTAssertEqual(r.started?["simulated_missing"] as? [String], ["landlock"])
    }

    func testWithoutUserNotificationTheLoaderTrickIsNotClaimed() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "\(f.loader) \(f.payload)"], environment: ["KITSUNE_SIMULATE_MISSING": "unotify"])
        // Honest degradation: Landlock cannot stop the loader trick, and the started event says so.
        XCTAssertTrue(r.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(r.control("loader"), "off")
        let off = try XCTUnwrap(r.started?["not_enforced"] as? [String])
        XCTAssertTrue(off.contains("loader") && off.contains("blocklist") && off.contains("interpreter_script"), "\(off)")
        // execveat(AT_EMPTY_PATH) is still refused by the static filter.
        let at = try f.enforce([], [f.attack, "execveat-empty", f.payload], environment: ["KITSUNE_SIMULATE_MISSING": "unotify"])
        XCTAssertEqual(at.stdout, "ERR EACCES\n")
    }

    func testWithNothingLeftNothingIsClaimed() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", f.payload], environment: ["KITSUNE_SIMULATE_MISSING": "landlock,unotify"])
        XCTAssertTrue(r.stdout.contains("PAYLOAD RAN"))
        for control in ["drift", "loader", "blocklist", "interpreter_script", "native_code"] {
            XCTAssertEqual(r.control(control), "off", control)
        }
    }

    func testProbe() throws {
        let r = try EnforcerFixture.run([f.enforcer, "--probe"])
        XCTAssertEqual(r.status, 0)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let mech = try XCTUnwrap(obj["mechanisms"] as? [String: Any])
        XCTAssertEqual(mech["landlock_abi"] as? Int, 7, "this machine has Landlock ABI 7")
        let sim = try EnforcerFixture.run([f.enforcer, "--probe"], environment: ["KITSUNE_SIMULATE_MISSING": "unotify"])
        XCTAssertTrue(sim.stdout.contains("\"user_notification\":false"))
    }

    /// Fully static: no program interpreter and no dynamic section, so no glibc version requirement
    /// (starts on Amazon Linux 2's glibc 2.26 as on 2023's 2.34).
    func testEnforcerIsFullyStatic() throws {
        try EnforcerFixture.assertFullyStatic(f.enforcer)
    }

    /// Bad input: one clear line, exit 2, and the command is never started.
    func testBadInputNeverStartsTheCommand() throws {
        let marker = f.writable.appendingPathComponent("must-not-exist-\(UUID().uuidString)").path
        let badPolicy = f.writable.appendingPathComponent("bad-policy.yaml").path
        try f.write("version: 1\nmode: enforce\nblock:\n  - xmrig\n  mood: audit\n", to: badPolicy, mode: 0o644)
        let typo = f.writable.appendingPathComponent("typo-policy.yaml").path
        try f.write("version: 1\nmdoe: audit\n", to: typo, mode: 0o644)
        let badManifest = f.writable.appendingPathComponent("bad-manifest.json").path
        try f.write("{\"version\":1,\"root\":\"/var/task\",\"files\":[{\"path\":\"bin/x\",\"sha256\":\"zz\",\"size\":1}]}", to: badManifest, mode: 0o644)
        let cases: [([String], String)] = [
            (["--policy", badPolicy], "bad-policy.yaml:5"),
            (["--policy", typo], "field `mdoe`: unknown setting"),
            (["--policy", "/nonexistent/policy.yaml"], "cannot read policy /nonexistent/policy.yaml"),
            (["--manifest", badManifest], "field `sha256`"),
            (["--package", "/nonexistent/task"], "package directory does not exist"),
            (["--frobnicate"], "unknown option --frobnicate"),
            (["--mode", "strict"], "--mode must be enforce, audit or learn"),
            (["--block", "sha256:abc"], "64 hexadecimal digits"),
            (["--allow", "relative/path"], "absolute path"),
        ]
        for (options, message) in cases {
            let args = [f.enforcer] + options + ["--", "/usr/bin/touch", marker]
            let r = try EnforcerFixture.run(args)
            XCTAssertEqual(r.status, 2, "\(options): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(options): expected '\(message)' in '\(r.stderr)'")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "command ran despite \(options)")
        }
        let noCommand = try EnforcerFixture.run([f.enforcer, "--mode", "audit"])
        XCTAssertEqual(noCommand.status, 2)
    }

    func testPolicyFileSettingsAndFlagOverride() throws {
        let policy = f.writable.appendingPathComponent("policy-\(UUID().uuidString).yaml").path
        try f.write("""
        # reviewed in git
        version: 1
        mode: audit
        block: [innocent-name]
        interpreter_scripts: report
        """, to: policy, mode: 0o644)
        let check = try EnforcerFixture.run([f.enforcer, "--policy", policy, "--check"])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("\"mode\":\"audit\""))
        XCTAssertTrue(check.stdout.contains("\"innocent-name\""))
        XCTAssertTrue(check.stdout.contains("\"xmrig*\""), "defaults are kept: \(check.stdout)")
        // --mode overrides the file.
        let r = try f.enforce(["--policy", policy], ["/bin/sh", "-c", "\(f.payload); echo exit=$?"], mode: "enforce")
        XCTAssertTrue(r.stdout.contains("exit=126"))
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
