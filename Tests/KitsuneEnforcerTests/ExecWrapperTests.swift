import Foundation
import XCTest

/// Started by the name `wrapper` (the Lambda layer's `/opt/kitsune/wrapper`, a copy of the enforcer
/// that AWS_LAMBDA_EXEC_WRAPPER names, or a symbolic link to it), the enforcer takes the runtime's command line as it
/// is and the policy beside its own directory: no `/bin/sh` script in between.
final class ExecWrapperTests: XCTestCase {
    let f = EnforcerFixture.shared

    /// A layer-shaped directory: kitsune/bin/kitsune-enforcer, kitsune/wrapper -> bin/kitsune-enforcer,
    /// and kitsune/policy.yaml when `policy` is given.
    func layer(policy: String?) throws -> URL {
        let fm = FileManager.default
        let dir = f.root.appendingPathComponent("layer-\(UUID().uuidString)/kitsune")
        try fm.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        for d in [dir.deletingLastPathComponent(), dir, dir.appendingPathComponent("bin")] { chmod(d.path, 0o755) }
        try f.install(f.enforcer, as: dir.appendingPathComponent("bin/kitsune-enforcer").path)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("wrapper").path, withDestinationPath: "bin/kitsune-enforcer")
        if let policy { try f.write(policy, to: dir.appendingPathComponent("policy.yaml").path, mode: 0o644) }
        return dir
    }

    func run(_ args: [String]) throws -> EnforcerFixture.Output {
        var a = args
        if f.unprivileged { a = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + a }
        return try EnforcerFixture.run(a, cwd: f.package.path)
    }

    func testTheWrapperLinkProtectsTheRuntimeCommandWithThePolicyBesideIt() throws {
        let events = f.writable.appendingPathComponent("wrapper-events-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: events) }
        let dir = try layer(policy: """
        version: 1
        mode: enforce
        package: [\(f.package.path)]
        events: \(events)
        """)
        // The runtime's command line comes as it is: arguments that look like the enforcer's options
        // belong to the command.
        let r = try run([dir.appendingPathComponent("wrapper").path, "/bin/sh", "-c", "\(f.payload); echo exit=$? --policy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "exit=126 --policy\n", r.stderr)
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
        let parsed = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(parsed.first?["action"] as? String, "started")
        XCTAssertEqual(parsed.first?["command"] as? [String], ["/bin/sh", "-c", "\(f.payload); echo exit=$? --policy"])
        XCTAssertTrue(parsed.contains { $0["action"] as? String == "blocked" && $0["executable"] as? String == f.payload }, "\(parsed)")
    }

    func testAWrapperWithoutItsPolicyOrCommandNeverStartsTheCommand() throws {
        let missing = try layer(policy: nil)
        let r = try run([missing.appendingPathComponent("wrapper").path, "/bin/echo", "RAN"])
        XCTAssertEqual(r.status, 2)
        XCTAssertFalse(r.stdout.contains("RAN"))
        XCTAssertTrue(r.stderr.contains(missing.appendingPathComponent("policy.yaml").path), r.stderr)
        let bad = try layer(policy: "version: 1\nmode: sometimes\n")
        let b = try run([bad.appendingPathComponent("wrapper").path, "/bin/echo", "RAN"])
        XCTAssertEqual(b.status, 2)
        XCTAssertFalse(b.stdout.contains("RAN"))
        XCTAssertTrue(b.stderr.contains("mode"), b.stderr)
        let none = try run([bad.appendingPathComponent("wrapper").path])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("no command"), none.stderr)
        // A copy named `wrapper` (an extraction that does not keep links) reads the policy beside it.
        let copy = try layer(policy: nil)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("wrapper"))
        try f.install(f.enforcer, as: copy.appendingPathComponent("wrapper").path)
        try f.write("version: 1\nmode: audit\npackage: [\(f.package.path)]\n", to: copy.appendingPathComponent("policy.yaml").path, mode: 0o644)
        let c = try run([copy.appendingPathComponent("wrapper").path, "/bin/echo", "RAN"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(c.stdout, "RAN\n", c.stderr)
        XCTAssertTrue(c.stderr.contains("\"mode\":\"audit\""), c.stderr)
        // Any other name is the ordinary command line.
        let plain = try run([bad.appendingPathComponent("bin/kitsune-enforcer").path, "--version"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
    }
}
