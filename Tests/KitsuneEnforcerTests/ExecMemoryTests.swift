import Foundation
import XCTest

/// W^X per runtime (`exec_memory`): a real Python is refused writable+executable, anonymous
/// executable and later-executable memory (the in-memory loader's tools), while real native-extension
/// packages and ctypes callbacks keep working, and a JIT runtime (Node) started from it still JITs.
/// The packages come from PyPI through scripts/setup (numpy, cryptography, pydantic-core, orjson).
final class ExecMemoryTests: XCTestCase {
    let f = EnforcerFixture.shared
    let python = "/usr/bin/python3"

    /// The fixture script, copied into the package (a script from a writable place would be refused).
    func script() throws -> String {
        let target = f.package.appendingPathComponent("exec_memory.py").path
        try f.install(try EnforcerFixture.fixturesDirectory().appendingPathComponent("exec_memory.py").path, as: target, mode: 0o644)
        return target
    }

    override func setUpWithError() throws {
        #if !arch(x86_64)
        throw XCTSkip("the attack fixture's machine code is x86-64")
        #endif
        let check = try EnforcerFixture.run([python, "-c", "import numpy, cryptography, pydantic_core, orjson"])
        guard check.status == 0 else {
            throw FixtureError("numpy, cryptography, pydantic-core and orjson must be installed for \(python) (scripts/setup): \(check.stderr)")
        }
    }

    func testRealNativeExtensionsAndCtypesCallbacksRunUnderEnforce() throws {
        let r = try f.enforce([], [python, try script(), "benign"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
        XCTAssertEqual(out["cryptography"] as? String, "secret")
        XCTAssertEqual(out["pydantic_core"] as? Int, 5)
        XCTAssertEqual(out["orjson"] as? Int, 3)
        XCTAssertEqual(out["numpy"] as? Double, 1.0)
        XCTAssertEqual(out["ctypes_callback"] as? [Int], [1, 2, 3, 4, 5])
        XCTAssertTrue(r.decisions.isEmpty, "no false positive: \(r.decisions)")
        XCTAssertEqual(r.control("exec_memory"), "seccomp+supervisor")
        // Same in audit mode: nothing to report either.
        let audit = try f.enforce([], [python, try script(), "benign"], mode: "audit")
        XCTAssertEqual(audit.status, 0, audit.stderr)
        XCTAssertEqual(audit.decisions.filter { $0["reason"] as? String == "exec_memory" }.count, 0, "\(audit.decisions)")
    }

    func testInMemoryCodeIsRefusedInEnforceAndReportedInAudit() throws {
        let cases: [(String, String, String)] = [
            ("rwx", "mmap", "mmap(PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS)"),
            ("mmap_rwx", "mmap", "mmap(PROT_READ|PROT_WRITE|PROT_EXEC, MAP_SHARED|MAP_ANONYMOUS)"),
            ("anon_rx", "mmap", "mmap(PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS)"),
            ("mprotect", "mprotect", "PROT_READ|PROT_EXEC)"),
        ]
        for (name, call, shown) in cases {
            let blocked = try f.enforce([], [python, try script(), name])
            XCTAssertEqual(blocked.stdout, "refused errno=1\n", "\(name): \(blocked.stderr)")
            let e = try XCTUnwrap(blocked.decisions("exec_memory").first, "\(name): \(blocked.events)")
            XCTAssertEqual(e["action"] as? String, "blocked")
            XCTAssertEqual(e["syscall"] as? String, call)
            XCTAssertEqual(e["executable"] as? String, try canonical(python))
            XCTAssertTrue((e["argv"] as? [String])?.first?.hasSuffix(shown) == true, "\(name): \(e)")
            if call == "mprotect" { XCTAssertTrue((e["argv"] as? [String])?.first?.hasPrefix("mprotect(0x") == true, "\(e)") }

            let audited = try f.enforce([], [python, try script(), name], mode: "audit")
            XCTAssertEqual(audited.stdout, name == "anon_rx" ? "mapped\n" : "ran 42\n", "\(name): \(audited.stderr)")
            XCTAssertEqual(audited.decisions("exec_memory").first?["action"] as? String, "reported", "\(name): \(audited.events)")
        }
        // Off by policy: the attack runs, nothing is said.
        try f.write("version: 1\nexec_memory: off\n", to: f.writable.appendingPathComponent("wx-off.yaml").path, mode: 0o644)
        let free = try f.enforce(["--policy", f.writable.appendingPathComponent("wx-off.yaml").path], [python, try script(), "rwx"])
        XCTAssertEqual(free.stdout, "ran 42\n", free.stderr)
        XCTAssertEqual(free.control("exec_memory"), "off")
        XCTAssertTrue(free.decisions.isEmpty, "\(free.decisions)")
    }

    /// The filter is inherited by every process of the sandbox; the decision is by runtime: Node,
    /// started from the refused Python, still JITs; Python started from Node is still refused.
    func testAJITRuntimeKeepsItsJITWhereverItIsStarted() throws {
        let node = "/usr/bin/node"
        guard FileManager.default.isExecutableFile(atPath: node) else { throw FixtureError("node is not installed (scripts/setup)") }
        let js = "let s = 0; for (let i = 0; i < 3e6; i++) s += i % 7; console.log('node', s)"
        let fromPython = try f.enforce([], [python, "-c", "import subprocess; subprocess.run(['\(node)', '-e', \"\(js)\"], check=True)"])
        XCTAssertEqual(fromPython.status, 0, fromPython.stderr)
        XCTAssertEqual(fromPython.stdout, "node 8999994\n")
        XCTAssertTrue(fromPython.decisions.isEmpty, "\(fromPython.decisions)")
        let fromNode = try f.enforce([], [node, "-e", "require('child_process').execFileSync('\(python)', ['\(try script())', 'rwx'], {stdio: 'inherit'})"])
        XCTAssertEqual(fromNode.stdout, "refused errno=1\n", fromNode.stderr)
        XCTAssertEqual(fromNode.decisions("exec_memory").count, 1, "\(fromNode.events)")
    }

    func canonical(_ path: String) throws -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
}
