import Foundation
import XCTest

/// Control 7: the wrapped command keeps its stdio, environment, exit status and signals.
final class TransparencyTests: XCTestCase {
    let f = EnforcerFixture.shared

    func testExitCodeStdioAndEnvironment() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "read x; echo \"in=$x env=$KITSUNE_T\"; echo err >&2; exit 42"],
                              environment: ["KITSUNE_T": "value with spaces"], stdin: "hello\n")
        XCTAssertEqual(r.status, 42)
        XCTAssertEqual(r.stdout, "in=hello env=value with spaces\n")
        XCTAssertTrue(r.stderr.contains("err"))
    }

    func testDeathBySignalIsPropagated() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "kill -TERM $$"])
        XCTAssertEqual(r.status, 128 + SIGTERM)
    }

    func testSigtermFromThePlatformReachesTheCommand() throws {
        let events = f.writable.appendingPathComponent("sig-\(UUID().uuidString).jsonl").path
        let out = f.writable.appendingPathComponent("sig-\(UUID().uuidString).out").path
        let script = "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done"
        var args = [f.enforcer, "--events", events, "--package", f.package.path, "--", "/bin/sh", "-c", script]
        if f.unprivileged { args = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + args }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        FileManager.default.createFile(atPath: out, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        try p.run()
        for _ in 0..<500 where !((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("ready") { usleep(10_000) }
        kill(p.processIdentifier, SIGTERM)
        XCTAssertEqual(EnforcerFixture.reap(p), 3)
        XCTAssertTrue(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("got-term"))
    }

    func testCommandLookupThroughPath() throws {
        let r = try f.enforce([], ["echo", "via-path"])
        XCTAssertEqual(r.stdout, "via-path\n")
        let missing = try f.enforce([], ["no-such-command-kitsune"])
        XCTAssertEqual(missing.status, 127)
        XCTAssertTrue(missing.stderr.contains("command not found"))
    }
}
