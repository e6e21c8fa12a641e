import KitsunePolicyCore
import XCTest

/// Learn mode's bounded set of reported programs, and the script an interpreter exec runs.
final class ObservedProgramsTests: XCTestCase {
    func b(_ s: String) -> Bytes { Bytes(s.utf8) }

    func testOnlyLearnModeKeepsASet() {
        XCTAssertNil(ObservedPrograms.forMode(.enforce))
        XCTAssertNil(ObservedPrograms.forMode(.audit))
        XCTAssertEqual(ObservedPrograms.forMode(.learn)?.capacity, 1024)
    }

    func testEachProgramOnceThenOneOverflowThenNothing() {
        var set = ObservedPrograms(capacity: 3)
        let keys = (0..<6).map { ObservedPrograms.key(executable: b("/tmp/p\($0)"), script: nil) }
        for k in keys.prefix(3) {
            XCTAssertFalse(set.contains(k))
            XCTAssertEqual(set.insert(k), .added)
            XCTAssertTrue(set.contains(k))
        }
        XCTAssertEqual(set.count, 3)
        XCTAssertFalse(set.isFull)
        XCTAssertEqual(set.insert(keys[3]), .overflow)
        XCTAssertTrue(set.isFull)
        XCTAssertEqual(set.insert(keys[4]), .full)
        XCTAssertEqual(set.insert(keys[5]), .full)
        XCTAssertEqual(set.count, 3, "nothing is recorded past the bound")
        XCTAssertFalse(set.contains(keys[3]))
        XCTAssertTrue(set.contains(keys[0]), "programs recorded before the overflow stay known")
    }

    func testKeysAreFixedSizeAndTellScriptsApart() {
        let long = Bytes(repeating: 97, count: 100_000)
        XCTAssertEqual(ObservedPrograms.key(executable: [47] + long, script: long).count, 32)
        let py = b("/usr/bin/python3.11")
        let plain = ObservedPrograms.key(executable: py, script: nil)
        let app = ObservedPrograms.key(executable: py, script: b("/var/task/app.py"))
        let other = ObservedPrograms.key(executable: py, script: b("/var/task/other.py"))
        XCTAssertEqual(Set([plain, app, other]).count, 3)
        XCTAssertEqual(app, ObservedPrograms.key(executable: py, script: b("/var/task/app.py")))
        // The boundary between executable and script cannot be moved to forge another program's key.
        XCTAssertNotEqual(ObservedPrograms.key(executable: b("/a"), script: b("b")),
                          ObservedPrograms.key(executable: b("/a\u{0}b"), script: nil))
    }

    func testZeroCapacityOverflowsAtOnce() {
        var set = ObservedPrograms(capacity: -5)
        XCTAssertEqual(set.capacity, 0)
        XCTAssertEqual(set.insert(ObservedPrograms.key(executable: b("/bin/sh"), script: nil)), .overflow)
    }

    func testProgramScriptOfInterpreterExecs() {
        var oracle = TableOracle()
        for f in ["/usr/bin/python3.11", "/var/task/app.py", "/usr/bin/busybox", "/tmp/x.sh", "/var/task/bin/tool"] { oracle.add(f) }
        oracle.add("/var/task/pkg", kind: .directory)
        var policy = Policy()
        var py = InterpreterRule()
        py.names = [b("python3*")]
        py.inlineOptions = [b("-c"), b("-m")]
        py.valueOptions = [b("-W")]
        var sh = InterpreterRule()
        sh.names = [b("sh")]
        sh.inlineOptions = [b("-c")]
        policy.interpreters = [py, sh]
        policy.multicall = [b("busybox")]
        let judge = ExecJudge(policy: policy, manifest: nil)
        func script(_ exe: String, _ argv: [String]) -> String? {
            let attempt = ExecAttempt(executable: oracle.lookup(b(exe), cwd: b("/var/task")), argv: argv.map(b), cwd: b("/var/task"))
            return judge.programScript(attempt, oracle: &oracle).map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(script("/usr/bin/python3.11", ["python3", "-W", "ignore", "app.py", "arg"]), "/var/task/app.py")
        XCTAssertEqual(script("/usr/bin/python3.11", ["python3", "pkg"]), "/var/task/pkg")
        XCTAssertNil(script("/usr/bin/python3.11", ["python3", "-c", "print(1)"]), "inline code has no script")
        XCTAssertNil(script("/usr/bin/python3.11", ["python3", "-m", "app"]))
        XCTAssertNil(script("/usr/bin/python3.11", ["python3"]), "standard input is not a script file")
        XCTAssertNil(script("/usr/bin/python3.11", ["python3", "missing.py"]), "a file that does not exist is not reported")
        XCTAssertEqual(script("/usr/bin/busybox", ["sh", "/tmp/x.sh"]), "/tmp/x.sh", "a multi-call binary's applet")
        XCTAssertNil(script("/var/task/bin/tool", ["tool", "/tmp/x.sh"]), "not an interpreter")
    }
}
