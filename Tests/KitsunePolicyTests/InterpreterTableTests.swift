import Foundation
import KitsunePolicyCore
import XCTest

/// The enforcer's own interpreter table (Resources/default-policy.yaml, loaded as the enforcer
/// loads it): the interpreters of Amazon Linux, Debian and Alpine images — busybox applets through
/// `multicall` — and the start-up variables that point them at code elsewhere.
final class InterpreterTableTests: XCTestCase {
    var oracle = TableOracle()
    var policy = Policy()

    override func setUpWithError() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/KitsuneEnforcer/Resources/default-policy.yaml").standardized
        try PolicyLoader.apply(Bytes(try Data(contentsOf: file)), to: &policy)
        policy.packageRoots = [Bytes("/var/task".utf8)]
        policy.systemRoots = [Bytes("/usr".utf8), Bytes("/bin".utf8)]
        policy.credentialValues = [Bytes("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".utf8)]   // read from the environment at start
        oracle = TableOracle()
        for f in ["/bin/busybox", "/usr/bin/sed", "/usr/bin/make", "/usr/bin/python3.11", "/usr/bin/ruby", "/usr/bin/tclsh8.6",
                  "/usr/bin/dotnet", "/usr/bin/php8.2", "/usr/bin/Rscript", "/tmp/x.sh", "/tmp/x.sed", "/tmp/Makefile", "/tmp/x.py",
                  "/tmp/x.rb", "/tmp/x.tcl", "/tmp/x.dll", "/tmp/x.php", "/tmp/x.R", "/var/task/Makefile", "/var/task/app.dll",
                  "/var/task/app.py", "/tmp/data.txt"] {
            oracle.add(f)
        }
        oracle.add("/tmp/pyhome", kind: .directory)
    }

    func reasons(_ exe: String, _ argv: [String], env: [String] = []) -> [String] {
        let attempt = ExecAttempt(executable: oracle.lookup(Bytes(exe.utf8), cwd: Bytes("/var/task".utf8)),
                                  argv: argv.map { Bytes($0.utf8) }, cwd: Bytes("/var/task".utf8), environment: env.map { Bytes($0.utf8) })
        let judge = ExecJudge(policy: policy, manifest: nil)
        return judge.judge(attempt, oracle: &oracle).violations.map { String(decoding: $0.reason.name, as: UTF8.self) }
    }

    func testBusyboxAppletsAreJudgedAsWhatTheyRun() {
        // Alpine: /bin/sh is a link to /bin/busybox; the exec resolves to busybox, argv[0] says `sh`.
        XCTAssertEqual(reasons("/bin/busybox", ["sh", "/tmp/x.sh"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/bin/busybox", ["/bin/ash", "/tmp/x.sh"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/bin/busybox", ["busybox", "sh", "/tmp/x.sh"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/bin/busybox", ["busybox", "awk", "-f", "/tmp/x.sh"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/bin/busybox", ["env"]), ["credentials"], "an environment dump through busybox env")
        XCTAssertEqual(reasons("/bin/busybox", ["busybox", "printenv"]), ["credentials"])
        XCTAssertEqual(reasons("/bin/busybox", ["busybox", "sh", "-c", "echo ok"]), [])
        XCTAssertEqual(reasons("/bin/busybox", ["ls", "/tmp/x.sh"]), [], "not an interpreter")
        XCTAssertEqual(reasons("/bin/busybox", ["busybox"]), [])
        XCTAssertTrue(ExecJudge(policy: policy, manifest: nil).needsEnvironment(Bytes("/bin/busybox".utf8)))
    }

    func testNewInterpretersTakeScriptsFromWritablePlaces() {
        XCTAssertEqual(reasons("/usr/bin/sed", ["sed", "-n", "-f", "/tmp/x.sed", "/var/task/app.py"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/sed", ["sed", "-e", "s/a/b/", "/tmp/data.txt"]), [])
        XCTAssertEqual(reasons("/usr/bin/sed", ["sed", "s/a/b/", "/tmp/data.txt"]), [], "the program text, then input files")
        XCTAssertEqual(reasons("/usr/bin/make", ["make", "-f", "/tmp/Makefile"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/make", ["make", "-C", "/tmp", "all"]), [])
        XCTAssertEqual(reasons("/usr/bin/tclsh8.6", ["tclsh", "/tmp/x.tcl"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/dotnet", ["dotnet", "/tmp/x.dll"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/dotnet", ["dotnet", "exec", "--depsfile", "/var/task/app.deps.json", "/var/task/app.dll"]), [])
        XCTAssertEqual(reasons("/usr/bin/php8.2", ["php", "-f", "/tmp/x.php"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/Rscript", ["Rscript", "/tmp/x.R"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/Rscript", ["Rscript", "-e", "1+1"]), [])
    }

    func testStartUpVariablesPointingAtWritablePlaces() {
        let py = ["python3", "/var/task/app.py"]
        XCTAssertEqual(reasons("/usr/bin/python3.11", py), [])
        XCTAssertEqual(reasons("/usr/bin/python3.11", py, env: ["PYTHONSTARTUP=/tmp/x.py"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/python3.11", py, env: ["PYTHONHOME=/tmp/pyhome"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/python3.11", py, env: ["PYTHONUSERBASE=/tmp/pyhome"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/ruby", ["ruby", "-e", "1"], env: ["RUBYOPT=-r/tmp/x.rb"]), ["interpreter_script"])
        XCTAssertEqual(reasons("/usr/bin/php8.2", ["php", "-r", "1;"], env: ["PHP_INI_SCAN_DIR=/tmp/pyhome"]), ["interpreter_script"])
    }
}
