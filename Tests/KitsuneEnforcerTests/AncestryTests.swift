import Foundation
import XCTest

/// Events: `ancestors`, the processes above the one that made the attempt, nearest first, up to the
/// wrapped command (bounded: 8 entries, each argv to 256 entries and 64 KiB; credentials redacted).
final class AncestryTests: XCTestCase {
    let f = EnforcerFixture.shared

    func chain(_ event: [String: Any]?, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        try XCTUnwrap(event?["ancestors"] as? [[String: Any]], "no ancestors in \(String(describing: event))", file: file, line: line)
    }

    func canonical(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().path }

    func testBlockedShellChainShowsEveryShell() throws {
        let inner = "\(f.payload); true"
        let outer = "/bin/sh -c \"\(inner)\"; true"
        for mode in ["enforce", "audit"] {
            let r = try f.enforce([], ["/bin/sh", "-c", outer], mode: mode)
            XCTAssertEqual(r.stdout.contains("PAYLOAD RAN"), mode == "audit", r.stdout)
            let e = try XCTUnwrap(r.decisions("drift").first, "\(r.events)")
            XCTAssertEqual(e["action"] as? String, mode == "enforce" ? "blocked" : "reported")
            let ancestors = try chain(e)
            XCTAssertEqual(ancestors.count, 2, "\(ancestors)")
            XCTAssertEqual(ancestors.map { $0["pid"] as? Int }, [e["ppid"] as? Int, r.started?["command_pid"] as? Int])
            XCTAssertEqual(ancestors.map { $0["argv"] as? [String] }, [["/bin/sh", "-c", inner], ["/bin/sh", "-c", outer]])
            XCTAssertEqual(ancestors.map { $0["executable"] as? String }, Array(repeating: canonical("/bin/sh"), count: 2))
            XCTAssertNil(ancestors[0]["argv_truncated"])
        }
        // The wrapped command's own exec has nothing above it but the enforcer.
        let own = try f.enforce([], [f.payload])
        let e = try XCTUnwrap(own.decisions("drift").first, "\(own.events)")
        XCTAssertEqual(try chain(e).count, 0)
    }

    func testAncestorsAreBounded() throws {
        // Ten nested shells (a script of the package calling itself), the innermost running a drop.
        let nest = "\(f.package.path)/bin/nest"
        try f.write("#!/bin/sh\nif [ \"$1\" -gt 0 ]; then \(nest) $(($1 - 1)); true; else \(f.payload); true; fi\n", to: nest)
        let deep = try f.enforce([], ["/bin/sh", "-c", "\(nest) 9; true"])
        let ancestors = try chain(deep.decisions("drift").first)
        XCTAssertEqual(ancestors.count, 8, "\(ancestors)")
        XCTAssertEqual(ancestors.map { ($0["argv"] as? [String])?.last }, (0..<8).map { "\($0)" })
        // A command line over 64 KiB is cut there and says so; the decision itself saw all of it.
        let long = "# " + String(repeating: "x", count: 70_000) + "\n\(f.payload); true"
        let r = try f.enforce([], ["/bin/sh", "-c", long])
        let top = try XCTUnwrap(try chain(r.decisions("drift").first).first)
        let argv = try XCTUnwrap(top["argv"] as? [String])
        XCTAssertEqual(argv.map { $0.utf8.count }.reduce(0, +), 64 * 1024)
        XCTAssertEqual(top["argv_truncated"] as? Bool, true)
        XCTAssertEqual(argv.first, "/bin/sh")
    }

    func testAncestorsNeverShowTheCredentials() throws {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzANCESTRY"
        let inner = "true \(secret); \(f.payload); true"
        let r = try f.enforce([], ["/bin/sh", "-c", "/bin/sh -c '\(inner)'; true"], mode: "audit",
                              environment: ["AWS_SECRET_ACCESS_KEY": secret])
        XCTAssertTrue(r.stdout.contains("PAYLOAD RAN"), r.stdout)
        let e = try XCTUnwrap(r.decisions("drift").first, "\(r.events)")
        let argv = try XCTUnwrap(try chain(e).first?["argv"] as? [String])
        XCTAssertEqual(argv, ["/bin/sh", "-c", "true [redacted]; \(f.payload); true"])
        XCTAssertFalse(r.events.description.contains(secret))
    }
}
