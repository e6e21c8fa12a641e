import Foundation
import XCTest
@testable import KitsuneLambda

/// The Kitsune layer on a real (emulated) Lambda: AWS's awslambdaric runs a deliberately vulnerable
/// Python function through AWS_LAMBDA_EXEC_WRAPPER=/opt/kitsune/wrapper.
final class LayerEndToEndTests: LambdaTestCase {
    /// "Convert this document URL": the URL is pasted into a shell command. The legitimate path runs
    /// a binary shipped in the package through the ELF loader (the zip lost its executable bit).
    static let vulnerableFunction = """
    import subprocess

    def handler(event, context):
        cmd = "echo converting " + event["url"] + " | /lib64/ld-linux-x86-64.so.2 /var/task/bin/convert"
        p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
        return {"stdout": p.stdout, "stderr": p.stderr, "code": p.returncode}
    """

    func enforcerBinary() throws -> URL { try Fixture.enforcerBinary() }
}

extension Fixture {
    /// The kitsune-enforcer in `$KITSUNE_BUILD_DIR` (scripts/test runs the layer's tests again with
    /// the musl build there), else the one built next to the test bundle.
    static func enforcerBinary() throws -> URL {
        if let built = ProcessInfo.processInfo.environment["KITSUNE_BUILD_DIR"] {
            let candidate = URL(fileURLWithPath: built).appendingPathComponent("kitsune-enforcer")
            guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
                throw TestToolMissing(message: "KITSUNE_BUILD_DIR=\(built) has no kitsune-enforcer")
            }
            return candidate
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("kitsune-enforcer")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw TestToolMissing(message: "kitsune-enforcer not built next to the tests (run swift build)")
    }
}

extension LayerEndToEndTests {
    /// Emulator with the function and the layer (policy text nil: the layer's default policy).
    func emulator(policy: String?, caFile: String? = nil, environment: [String: String] = [:]) throws -> LambdaEmulator {
        try Fixture.requireAwslambdaric()
        let code = try Fixture.temporaryDirectory()
        try Self.vulnerableFunction.write(to: code.appendingPathComponent("app.py"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: code.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/bin/base64", toPath: code.appendingPathComponent("bin/convert").path)
        chmod(code.appendingPathComponent("bin/convert").path, 0o644)
        if let caFile { try FileManager.default.copyItem(atPath: caFile, toPath: code.appendingPathComponent("collector-ca.pem").path) }
        var policyURL: URL?
        if let policy {
            policyURL = try Fixture.temporaryDirectory().appendingPathComponent("policy.yaml")
            try policy.write(to: policyURL!, atomically: true, encoding: .utf8)
        }
        let layer = try Fixture.temporaryDirectory()
        try LayerBuilder.install(enforcer: try enforcerBinary(), policy: policyURL, into: layer)
        for dir in [code, layer] { _ = try? Fixture.run(["/bin/chmod", "-R", "a+rX", dir.path], tool: "coreutils") }
        return try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "app.handler", runtime: "python3.11", layers: [layer], timeoutSeconds: 10,
            memoryMB: 256, environment: environment.merging(["AWS_LAMBDA_EXEC_WRAPPER": LayerBuilder.wrapperPath]) { a, _ in a },
            functionName: "convert-doc", accountId: "123456789012"))
    }

    func events(_ logs: String) -> [[String: Any]] {
        logs.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{\"time\"") else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    func body(_ r: InvocationResult) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: r.payload) as? [String: Any], r.payloadText)
    }

    func testEnforceAllowlistStopsEnvInjectionAndLegitRequestStillWorks() throws {
        let lambda = try emulator(policy: """
        version: 1
        mode: enforce
        package: [/var/task, /opt]
        allow: [/bin/sh, /var/task/bin/convert]
        """)
        defer { lambda.shutdown() }
        let legit = lambda.invoke(event(["url": "https://example.com/report.pdf"]))
        XCTAssertEqual(legit.status, .success, legit.logs)
        XCTAssertEqual(try body(legit)["stdout"] as? String, "Y29udmVydGluZyBodHRwczovL2V4YW1wbGUuY29tL3JlcG9ydC5wZGYK\n")
        XCTAssertTrue(events(legit.logs).filter { $0["action"] as? String == "blocked" }.isEmpty, legit.logs)

        let attack = lambda.invoke(event(["url": "x; env #"]))
        XCTAssertEqual(attack.status, .success, attack.logs)
        let out = try body(attack)
        XCTAssertFalse((out["stdout"] as? String ?? "").contains("AWS_SECRET_ACCESS_KEY"), "env dumped the credentials")
        XCTAssertTrue((out["stderr"] as? String ?? "").contains("Permission denied"), "\(out)")
        let blocked = try XCTUnwrap(events(attack.logs).first { $0["action"] as? String == "blocked" }, attack.logs)
        XCTAssertEqual(blocked["reason"] as? String, "not_allowlisted")
        XCTAssertEqual(blocked["executable"] as? String, "/usr/bin/env")
        XCTAssertEqual(blocked["function_name"] as? String, "convert-doc")
        XCTAssertEqual(blocked["region"] as? String, "us-east-1")
    }

    func testDefaultLayerPolicyStopsDropAndRunAndMiners() throws {
        let lambda = try emulator(policy: nil)
        defer { lambda.shutdown() }
        XCTAssertEqual(lambda.invoke(event(["url": "https://example.com/a.pdf"])).status, .success)
        let drop = lambda.invoke(event(["url": "x; cp /var/task/bin/convert /tmp/m && chmod 755 /tmp/m && /tmp/m --version"]))
        XCTAssertFalse((try body(drop)["stdout"] as? String ?? "").contains("base64 (GNU coreutils)"), drop.payloadText)
        let drift = try XCTUnwrap(events(drop.logs).first { $0["reason"] as? String == "drift" }, drop.logs)
        XCTAssertEqual(drift["action"] as? String, "blocked")
        XCTAssertEqual(drift["executable"] as? String, "/tmp/m")

        let miner = lambda.invoke(event(["url": "x; cp /var/task/bin/convert /tmp/xmrig && chmod 755 /tmp/xmrig && /tmp/xmrig"]))
        let e = try XCTUnwrap(events(miner.logs).first { $0["action"] as? String == "blocked" }, miner.logs)
        XCTAssertEqual(e["reason"] as? String, "blocklist")
    }

    func testAuditModeLetsAttacksRunAndReportsThem() throws {
        let lambda = try emulator(policy: "version: 1\nmode: audit\npackage: [/var/task, /opt]\nallow: [/bin/sh, /var/task/bin/convert]\n")
        defer { lambda.shutdown() }
        let attack = lambda.invoke(event(["url": "x; env #"]))
        XCTAssertTrue((try body(attack)["stdout"] as? String ?? "").contains("AWS_LAMBDA_FUNCTION_NAME=convert-doc"), attack.payloadText)
        let reported = try XCTUnwrap(events(attack.logs).first { $0["reason"] as? String == "not_allowlisted" }, attack.logs)
        XCTAssertEqual(reported["action"] as? String, "reported")
    }
}
