import Foundation
import XCTest

/// `mode: learn` on the real enforcer: audit (nothing blocked, violations reported as audit reports
/// them) plus one `observed` event per distinct program and start, bounded.
final class LearnModeTests: XCTestCase {
    let f = EnforcerFixture.shared

    func observed(_ r: EnforcedRun) -> [[String: Any]] {
        r.events.filter { $0["action"] as? String == "observed" && $0["reason"] as? String == "learn" }
    }

    func real(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().path }

    /// One cold start serving two invocations through the Runtime API relay: the packaged tool runs
    /// twice in the first and once in the second, and is reported once, with the first one's request id.
    func testEachProgramIsObservedOncePerStartAcrossInvocations() throws {
        let (api, port) = try EnforcerFixture.startServer("runtime_api.py", ["2", "60"])
        defer { api.terminate(); _ = EnforcerFixture.reap(api, timeout: 5) }
        let runtime = f.package.appendingPathComponent("learn_runtime.py").path
        try f.install(try EnforcerFixture.fixturesDirectory().appendingPathComponent("learn_runtime.py").path, as: runtime, mode: 0o644)
        let r = try f.enforce([], ["/usr/bin/python3", runtime, "\(f.tool),\(f.tool);\(f.tool)"], mode: "learn",
                              environment: ["AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(port)", "AWS_LAMBDA_FUNCTION_NAME": "learn-test"],
                              timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "REQUEST req-1\nPAYLOAD RAN 0\nPAYLOAD RAN 0\nREQUEST req-2\nPAYLOAD RAN 0\n", r.stderr)
        XCTAssertEqual(r.started?["mode"] as? String, "learn")
        XCTAssertEqual(r.control("learn"), "supervisor")
        XCTAssertEqual(r.started?["runtime_relay"] as? Bool, true)
        XCTAssertTrue(r.decisions.isEmpty, "a clean function: nothing to report \(r.decisions)")

        let seen = observed(r)
        let tool = seen.filter { $0["executable"] as? String == real(f.tool) }
        XCTAssertEqual(tool.count, 1, "three runs in two invocations, one report: \(seen)")
        let t = try XCTUnwrap(tool.first)
        XCTAssertEqual(t["request_id"] as? String, "req-1", "reported when first run, in the first invocation")
        XCTAssertEqual(t["argv0"] as? String, f.tool)
        XCTAssertNil(t["script"])
        XCTAssertNil(t["sha256"], "no hashing is added when the policy needed none")
        XCTAssertNil(t["initial"])
        XCTAssertEqual(t["mode"] as? String, "learn")
        XCTAssertEqual(t["syscall"] as? String, "execve")
        XCTAssertEqual(t["function_name"] as? String, "learn-test")
        XCTAssertEqual((t["instance_id"] as? String)?.count, 32)
        XCTAssertNotNil(t["seq"] as? Int)

        let python = try XCTUnwrap(seen.first { $0["executable"] as? String == real("/usr/bin/python3") }, "\(seen)")
        XCTAssertEqual(python["script"] as? String, real(runtime))
        XCTAssertEqual(python["argv0"] as? String, "/usr/bin/python3")
        XCTAssertEqual(python["initial"] as? Bool, true)
        XCTAssertEqual(seen.count, 2, "the runtime and the tool, nothing else: \(seen)")
        // Every event of the run, observed ones included, carries the instance's ids, each seq once.
        let seqs = r.events.compactMap { $0["seq"] as? Int }
        XCTAssertEqual(seqs.count, r.events.count)
        XCTAssertEqual(Set(seqs).count, seqs.count)
    }

    /// What enforce blocks runs in learn mode; it is reported exactly as audit reports it, and observed.
    func testWhatEnforceBlocksRunsAndIsReportedAndObserved() throws {
        let script = "\(f.payload); \(f.payload); \(f.tool)"
        let options = ["--block", "tool", "--block", "sha256:" + String(repeating: "0", count: 64)]
        let enforced = try f.enforce(options, ["/bin/sh", "-c", script])
        XCTAssertFalse(enforced.stdout.contains("PAYLOAD RAN"), enforced.stdout)
        XCTAssertEqual(enforced.decisions.filter { $0["action"] as? String == "blocked" }.count, 3, "\(enforced.decisions)")

        let audit = try f.enforce(options, ["/bin/sh", "-c", script], mode: "audit")
        let learn = try f.enforce(options, ["/bin/sh", "-c", script], mode: "learn")
        XCTAssertEqual(learn.status, 0, learn.stderr)
        XCTAssertEqual(learn.stdout, "PAYLOAD RAN\nPAYLOAD RAN\nPAYLOAD RAN\n")
        func reports(_ r: EnforcedRun) -> [String] {
            r.decisions.map { "\($0["action"] ?? "") \($0["reason"] ?? "") \($0["executable"] ?? "")" }
        }
        XCTAssertEqual(reports(learn), reports(audit))
        XCTAssertEqual(reports(learn), ["reported drift \(real(f.payload))", "reported drift \(real(f.payload))",
                                        "reported blocklist \(real(f.tool))"])

        let seen = observed(learn)
        XCTAssertEqual(seen.compactMap { $0["executable"] as? String },
                       [real("/bin/sh"), real(f.payload), real(f.tool)], "\(seen)")
        // A `sha256:` block entry makes the supervisor hash every program: learn mode passes it on.
        XCTAssertEqual(seen.first { $0["executable"] as? String == real(f.payload) }?["sha256"] as? String, try f.sha256(f.payload))
        XCTAssertEqual(seen.first { $0["executable"] as? String == real(f.tool) }?["sha256"] as? String, try f.sha256(f.tool))
        XCTAssertTrue(observed(audit).isEmpty, "audit mode observes nothing")
        XCTAssertTrue(observed(enforced).isEmpty, "enforce mode observes nothing")
    }

    /// 1030 distinct programs (hard links: distinct paths, one file): 1024 observed, one overflow
    /// event naming the first program left out, then silence; every program still runs.
    func testTheSetOfObservedProgramsIsBounded() throws {
        let dir = f.package.appendingPathComponent("many-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        chmod(dir.path, 0o755)
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<1030 {
            try FileManager.default.linkItem(atPath: f.tool, toPath: dir.appendingPathComponent(String(format: "l%04d", i)).path)
        }
        let loop = "n=0; for p in \(dir.path)/*; do \"$p\" >/dev/null && n=$((n+1)); done; \(dir.path)/l0000 >/dev/null; echo $n"
        let r = try f.enforce([], ["/bin/sh", "-c", loop], mode: "learn", timeout: 240)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "1030\n")
        let seen = observed(r)
        XCTAssertEqual(seen.count, 1024)
        XCTAssertEqual(seen.first?["executable"] as? String, real("/bin/sh"))
        XCTAssertEqual(seen.last?["executable"] as? String, real(dir.appendingPathComponent("l1022").path))
        let overflow = r.events.filter { $0["reason"] as? String == "learn_overflow" }
        XCTAssertEqual(overflow.count, 1, "\(overflow)")
        XCTAssertEqual(overflow.first?["action"] as? String, "observed")
        XCTAssertEqual(overflow.first?["limit"] as? Int, 1024)
        XCTAssertEqual(overflow.first?["executable"] as? String, real(dir.appendingPathComponent("l1023").path))
        XCTAssertTrue(r.decisions.isEmpty, "\(r.decisions.prefix(3))")
    }

    /// Hostile argv[0]: a huge one is cut to a path's length and said to be; control bytes stay valid JSON.
    func testHostileArgvZeroIsBounded() throws {
        let long = String(repeating: "A", count: 100_000)
        let r = try f.enforce([], ["/usr/bin/python3", "-c",
                                   "import os,sys; os.execv(sys.argv[1], [sys.argv[2]])", f.tool, long + "\n\u{1}"], mode: "learn")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "PAYLOAD RAN\n")
        let tool = try XCTUnwrap(observed(r).first { $0["executable"] as? String == real(f.tool) }, "\(r.events)")
        XCTAssertEqual((tool["argv0"] as? String)?.utf8.count, 4096)
        XCTAssertEqual(tool["argv0_truncated"] as? Bool, true)
    }
}
