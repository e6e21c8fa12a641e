import KitsunePolicyCore
import XCTest

/// A file system in a dictionary: the judge's rules without the kernel.
struct TableOracle: FileOracle {
    var files: [String: FileFacts] = [:]
    var digests: [String: Bytes] = [:]

    mutating func add(_ path: String, kind: FileKind = .regular, size: Int = 100, digest: Bytes? = nil) {
        files[path] = FileFacts(path: Bytes(path.utf8), kind: kind, size: size)
        if let d = digest { digests[path] = d }
    }

    mutating func lookup(_ path: Bytes, cwd: Bytes) -> FileFacts {
        let full = String(decoding: Path.join(cwd, path), as: UTF8.self)
        return files[full] ?? FileFacts(path: Bytes(full.utf8), kind: .missing)
    }

    mutating func sha256(of file: FileFacts) -> Bytes? { digests[String(decoding: file.path, as: UTF8.self)] }
}

/// The decision rules of the enforcer (the same code is compiled into kitsune-enforcer).
final class ExecJudgeTests: XCTestCase {
    var oracle = TableOracle()
    var policy = Policy()

    override func setUp() {
        oracle = TableOracle()
        for f in ["/usr/bin/dash", "/usr/bin/python3.11", "/usr/lib64/ld-linux-x86-64.so.2", "/var/task/bin/tool",
                  "/tmp/payload", "/tmp/x.py", "/tmp/x.sh", "/var/task/app.py", "/usr/bin/node", "/tmp/hook.js"] {
            oracle.add(f)
        }
        policy = Policy()
        policy.packageRoots = [Bytes("/var/task".utf8)]
        policy.systemRoots = [Bytes("/usr".utf8)]
        var sh = InterpreterRule()
        sh.names = [Bytes("dash".utf8), Bytes("sh".utf8)]
        sh.inlineOptions = [Bytes("-c".utf8)]
        var py = InterpreterRule()
        py.names = [Bytes("python3*".utf8)]
        py.inlineOptions = [Bytes("-c".utf8), Bytes("-m".utf8)]
        py.valueOptions = [Bytes("-W".utf8), Bytes("-X".utf8)]
        var node = InterpreterRule()
        node.names = [Bytes("node".utf8)]
        node.inlineOptions = [Bytes("-e".utf8)]
        node.scriptOptions = [Bytes("--require".utf8), Bytes("-r".utf8)]
        policy.interpreters = [sh, py, node]
        var ld = LoaderRule()
        ld.names = [Bytes("ld-linux*.so*".utf8)]
        ld.valueOptions = [Bytes("--argv0".utf8)]
        ld.codeOptions = [Bytes("--preload".utf8)]
        policy.loaders = [ld]
    }

    func judge(_ exe: String, _ argv: [String], initial: Bool = false, env: [String] = []) -> Verdict {
        let facts = oracle.lookup(Bytes(exe.utf8), cwd: Bytes("/var/task".utf8))
        let attempt = ExecAttempt(executable: facts, argv: argv.map { Bytes($0.utf8) }, cwd: Bytes("/var/task".utf8),
                                  environment: env.map { Bytes($0.utf8) }, isInitial: initial)
        return ExecJudge(policy: policy, manifest: nil).judge(attempt, oracle: &oracle)
    }

    func reasons(_ v: Verdict) -> [String] { v.violations.map { String(decoding: $0.reason.name, as: UTF8.self) } }

    func testDriftAndTrusted() {
        XCTAssertTrue(judge("/var/task/bin/tool", ["tool"]).isClean)
        XCTAssertTrue(judge("/usr/bin/dash", ["sh", "-c", "echo"]).isClean)
        let v = judge("/tmp/payload", ["payload"])
        XCTAssertEqual(reasons(v), ["drift"])
        XCTAssertTrue(v.block)
        policy.mode = .audit
        XCTAssertFalse(judge("/tmp/payload", ["payload"]).block)
        XCTAssertEqual(reasons(judge("/tmp/payload", ["payload"])), ["drift"])
    }

    func testFileless() {
        oracle.files["/proc/1/fd/3"] = FileFacts(path: Bytes("memfd:x".utf8), kind: .memfd)
        XCTAssertEqual(reasons(judge("/proc/1/fd/3", ["x"])), ["fileless"])
        XCTAssertEqual(reasons(judge("/usr/lib64/ld-linux-x86-64.so.2", ["ld.so", "/proc/1/fd/3"])), ["fileless"])
    }

    func testLoaderJudgesItsTarget() {
        XCTAssertEqual(reasons(judge("/usr/lib64/ld-linux-x86-64.so.2", ["ld.so", "/tmp/payload"])), ["loader"])
        XCTAssertEqual(reasons(judge("/usr/lib64/ld-linux-x86-64.so.2", ["ld.so", "--argv0", "x", "/tmp/payload"])), ["loader"])
        XCTAssertTrue(judge("/usr/lib64/ld-linux-x86-64.so.2", ["ld.so", "bin/tool"]).isClean)      // relative, packaged
        XCTAssertEqual(reasons(judge("/usr/lib64/ld-linux-x86-64.so.2", ["ld.so", "--preload", "/tmp/payload", "bin/tool"])), ["drift"])
        // A loader copied to a writable place is itself drift.
        oracle.add("/tmp/ld-linux-x86-64.so.2")
        XCTAssertEqual(reasons(judge("/tmp/ld-linux-x86-64.so.2", ["ld", "/var/task/bin/tool"])), ["drift"])
    }

    func testInterpreterScripts() {
        XCTAssertEqual(reasons(judge("/usr/bin/dash", ["sh", "/tmp/x.sh"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/python3.11", ["python3", "-W", "ignore", "/tmp/x.py"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/python3.11", ["python3", "-Wignore", "/tmp/x.py"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/python3.11", ["python3", "-u", "/tmp/x.py"])), ["interpreter_script"])
        XCTAssertTrue(judge("/usr/bin/python3.11", ["python3", "-c", "print(1)", "/tmp/x.py"]).isClean)
        XCTAssertTrue(judge("/usr/bin/python3.11", ["python3", "-Bc", "print(1)"]).isClean)
        XCTAssertTrue(judge("/usr/bin/python3.11", ["python3", "-m", "http.server"]).isClean)
        XCTAssertTrue(judge("/usr/bin/python3.11", ["python3", "app.py"]).isClean)
        XCTAssertEqual(reasons(judge("/usr/bin/node", ["node", "--require", "/tmp/hook.js", "app.js"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/node", ["node", "--require=/tmp/hook.js", "app.js"])), ["interpreter_script"])
        oracle.files["/proc/1/fd/0"] = FileFacts(path: Bytes("pipe:[1]".utf8), kind: .stream)
        XCTAssertEqual(reasons(judge("/usr/bin/python3.11", ["python3", "/proc/1/fd/0"])), ["interpreter_script"])
        // Program from standard input: judged by what stdin is.
        oracle.files["/dev/stdin"] = FileFacts(path: Bytes("pipe:[7]".utf8), kind: .stream)
        XCTAssertEqual(reasons(judge("/usr/bin/dash", ["sh"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/dash", ["sh", "-s"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/python3.11", ["python3", "-"])), ["interpreter_script"])
        XCTAssertTrue(judge("/usr/bin/dash", ["sh", "-c", "echo"]).isClean)
        XCTAssertTrue(judge("/usr/bin/dash", ["sh"], initial: true).isClean, "the operator's own command may read a pipe")
        oracle.files["/dev/stdin"] = FileFacts(path: Bytes("/dev/pts/0".utf8), kind: .other)
        XCTAssertTrue(judge("/usr/bin/dash", ["sh"]).isClean, "an interactive shell on a terminal")
        // A directory or zip run by the interpreter (`python3 /tmp/pkg/` runs its __main__.py).
        oracle.files["/tmp/pkg"] = FileFacts(path: Bytes("/tmp/pkg".utf8), kind: .directory)
        XCTAssertEqual(reasons(judge("/usr/bin/python3.11", ["python3", "/tmp/pkg"])), ["interpreter_script"])
        policy.interpreterScripts = .report
        let v = judge("/usr/bin/dash", ["sh", "/tmp/x.sh"])
        XCTAssertEqual(reasons(v), ["interpreter_script"])
        XCTAssertFalse(v.block, "report never blocks")
        policy.interpreterScripts = .off
        XCTAssertTrue(judge("/usr/bin/dash", ["sh", "/tmp/x.sh"]).isClean)
    }

    func testCodeFromTheEnvironmentAndAttachedOptions() {
        policy.interpreters[2].environmentOptions = [Bytes("NODE_OPTIONS".utf8)]
        policy.interpreters[2].environmentPaths = [Bytes("NODE_PATH".utf8)]
        policy.interpreters[2].scriptOptions.append(Bytes("-javaagent:".utf8))
        policy.interpreters[1].environmentPaths = [Bytes("PYTHONPATH".utf8)]
        policy.interpreters[0].environmentScripts = [Bytes("BASH_ENV".utf8)]
        oracle.files["/tmp/pkg"] = FileFacts(path: Bytes("/tmp/pkg".utf8), kind: .directory)
        oracle.files["/var/task/lib"] = FileFacts(path: Bytes("/var/task/lib".utf8), kind: .directory)
        XCTAssertTrue(judge("/usr/bin/node", ["node", "app.js"], env: ["NODE_OPTIONS=--enable-source-maps"]).isClean)
        XCTAssertEqual(reasons(judge("/usr/bin/node", ["node", "app.js"], env: ["NODE_OPTIONS=--require=/tmp/hook.js"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/node", ["node", "-e", "1"], env: ["NODE_OPTIONS=--x -r /tmp/hook.js"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/node", ["node", "-javaagent:/tmp/hook.js", "app.js"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/node", ["node", "-e", "1"], env: ["NODE_PATH=/var/task:/tmp/pkg"])), ["interpreter_script"])
        XCTAssertTrue(judge("/usr/bin/node", ["node", "-e", "1"], env: ["NODE_PATH=/var/task/lib::/nowhere"]).isClean)
        XCTAssertEqual(reasons(judge("/usr/bin/python3.11", ["python3", "-c", "import x"], env: ["PYTHONPATH=/tmp/pkg"])), ["interpreter_script"])
        XCTAssertEqual(reasons(judge("/usr/bin/dash", ["sh", "-c", "true"], env: ["BASH_ENV=/tmp/x.sh"])), ["interpreter_script"])
        XCTAssertTrue(judge("/usr/bin/dash", ["sh", "-c", "true"], env: ["BASH_ENV="]).isClean)
        // Another interpreter's variables are not its own.
        XCTAssertTrue(judge("/usr/bin/dash", ["sh", "-c", "true"], env: ["PYTHONPATH=/tmp/pkg"]).isClean)
        let judge = ExecJudge(policy: policy, manifest: nil)
        XCTAssertTrue(judge.needsEnvironment(Bytes("/usr/bin/node".utf8)))
        XCTAssertFalse(judge.needsEnvironment(Bytes("/var/task/bin/tool".utf8)))
        // Spellings: quotes, file:// URLs (percent-encoded too), attached short options, lists.
        for options in ["--require \"/tmp/hook.js\"", "--require='/tmp/hook.js'", "  -r\t/tmp/hook.js", "--require file:///%74mp/hook.js",
                        "--require=file:///tmp/hook.js"] {
            XCTAssertEqual(reasons(self.judge("/usr/bin/node", ["node", "-e", "1"], env: ["NODE_OPTIONS=\(options)"])), ["interpreter_script"], options)
        }
        XCTAssertEqual(reasons(self.judge("/usr/bin/node", ["node", "-javaagent:/tmp/hook.js=opt", "app.js"])), ["interpreter_script"])
        // Only list options are split on `:`; a `:` in any other script path is part of the name.
        oracle.add("/tmp/x:y.js")
        XCTAssertEqual(reasons(self.judge("/usr/bin/node", ["node", "-r", "/tmp/x:y.js", "app.js"])), ["interpreter_script"])
        policy.interpreters[2].scriptOptions.append(Bytes("-cp".utf8))
        policy.interpreters[2].listOptions = [Bytes("-cp".utf8)]
        XCTAssertEqual(reasons(self.judge("/usr/bin/node", ["node", "-cp", "/var/task/a.jar:/tmp/pkg", "Main"])), ["interpreter_script"])
        XCTAssertTrue(self.judge("/usr/bin/node", ["node", "-cp", "/var/task/lib:/usr", "Main"]).isClean)
        // A script option inside combined short options (`perl -wIdir script`): the script is still judged.
        policy.interpreters[1].scriptOptions = [Bytes("-I".utf8)]
        XCTAssertEqual(reasons(self.judge("/usr/bin/python3.11", ["python3", "-uIlibc", "/tmp/x.py"])), ["interpreter_script"])
        // awk: the first argument is program text; -f names a file.
        var awk = InterpreterRule()
        awk.names = [Bytes("awk".utf8)]
        awk.inlineProgram = true
        awk.valueOptions = [Bytes("-v".utf8)]
        awk.scriptOptions = [Bytes("-f".utf8)]
        policy.interpreters.append(awk)
        oracle.add("/usr/bin/awk")
        XCTAssertTrue(self.judge("/usr/bin/awk", ["awk", "-v", "x=1", "BEGIN{print}", "/tmp/x.sh"]).isClean)
        XCTAssertEqual(reasons(self.judge("/usr/bin/awk", ["awk", "-f", "/tmp/x.sh"])), ["interpreter_script"])
        XCTAssertEqual(reasons(self.judge("/usr/bin/awk", ["awk", "-f/tmp/x.sh"])), ["interpreter_script"])
    }

    func testCredentialsOutOfPlace() {
        policy.credentialValues = [Bytes("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".utf8)]
        var env = DumperRule()
        env.names = [Bytes("env".utf8)]
        env.valueOptions = [Bytes("-u".utf8), Bytes("-C".utf8)]
        env.clearingOptions = [Bytes("-i".utf8)]
        env.commandOptions = [Bytes("-S".utf8), Bytes("--split-string".utf8)]
        policy.environmentDumpers = [env]
        oracle.add("/usr/bin/env")
        oracle.add("/usr/bin/curl")
        XCTAssertEqual(reasons(judge("/usr/bin/curl", ["curl", "https://x/?k=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"])), ["credentials"])
        XCTAssertEqual(reasons(judge("/usr/bin/env", ["env"])), ["credentials"])
        XCTAssertEqual(reasons(judge("/usr/bin/env", ["env", "-0"])), ["credentials"])
        XCTAssertEqual(reasons(judge("/usr/bin/curl", ["curl", "-d", "@/proc/self/environ", "https://x"])), ["credentials"])
        policy.credentialVariables = [Bytes("AWS_SECRET_ACCESS_KEY".utf8)]
        XCTAssertEqual(reasons(judge("/usr/bin/env", ["env", "AWS_SECRET_ACCESS_KEY"])), ["credentials"], "printenv NAME")
        XCTAssertTrue(judge("/usr/bin/env", ["env", "python3", "app.py"]).isClean)
        XCTAssertEqual(reasons(judge("/usr/bin/env", ["env", "-u", "X", "-C", "/tmp"])), ["credentials"], "value options are not commands")
        XCTAssertTrue(judge("/usr/bin/env", ["env", "-i"]).isClean, "env -i prints nothing inherited")
        XCTAssertTrue(judge("/usr/bin/env", ["env", "-u", "X", "sh"]).isClean)
        for split in [["env", "-S", "sh -c 'echo x'"], ["env", "-Ssh -c x"], ["env", "--split-string=sh -c x"]] {
            XCTAssertTrue(judge("/usr/bin/env", split).isClean, "\(split): -S runs a command")
        }
        XCTAssertTrue(judge("/usr/bin/env", ["env", "A=1", "sh"]).isClean)
        XCTAssertTrue(judge("/usr/bin/curl", ["curl", "https://x/"]).isClean)
        policy.credentials = .report
        XCTAssertFalse(judge("/usr/bin/env", ["env"]).block)
        policy.credentialValues = []
        XCTAssertTrue(judge("/usr/bin/env", ["env"]).isClean, "no credentials in the environment, nothing to dump")
        XCTAssertEqual(Bytes("a-KEY-b-KEY".utf8).replacing(Bytes("KEY".utf8), with: Bytes("x".utf8)), Bytes("a-x-b-x".utf8))
    }

    func testBlocklist() {
        oracle.add("/var/task/bin/xmrig")
        policy.blockNames = [Bytes("xmrig*".utf8)]
        XCTAssertEqual(reasons(judge("/var/task/bin/xmrig", ["x"])), ["blocklist"])
        oracle.add("/var/task/bin/XMRig.bin")
        XCTAssertEqual(reasons(judge("/var/task/bin/XMRig.bin", ["x"])), ["blocklist"], "names match in any case")
        let digest = Bytes(repeating: 7, count: 32)
        oracle.add("/var/task/bin/renamed", digest: digest)
        policy.blockHashes = [digest]
        XCTAssertEqual(reasons(judge("/var/task/bin/renamed", ["x"])), ["blocklist"])
        XCTAssertEqual(reasons(judge("/tmp/payload", ["x"])), ["drift"])
        oracle.add("/tmp/xmrig")
        XCTAssertEqual(reasons(judge("/tmp/xmrig", ["x"])), ["blocklist", "drift"], "most serious first")
    }

    func testAllowlist() {
        policy.allow = [Bytes("/var/task/bin/tool".utf8), Bytes("/usr/lib/".utf8)]
        XCTAssertTrue(judge("/var/task/bin/tool", ["tool"]).isClean)
        XCTAssertEqual(reasons(judge("/usr/bin/dash", ["sh", "-c", "env"])), ["not_allowlisted"])
        XCTAssertTrue(judge("/usr/bin/dash", ["sh"], initial: true).isClean, "the wrapped command itself is exempt")
        // Through the loader, the target is what must be allowed.
        XCTAssertTrue(judge("/usr/lib64/ld-linux-x86-64.so.2", ["ld.so", "/var/task/bin/tool"]).isClean)
    }

    func testHoneypotIsReportedNotBlocked() {
        policy.honeypot.values = [Bytes("AKIADECOYKEY".utf8)]
        let v = judge("/usr/bin/dash", ["sh", "-c", "aws s3 ls"], env: ["AWS_ACCESS_KEY_ID=AKIADECOYKEY"])
        XCTAssertEqual(reasons(v), ["honeypot"])
        XCTAssertFalse(v.block)
    }

    func testMappings() {
        let j = ExecJudge(policy: policy, manifest: nil)
        XCTAssertTrue(j.judgeMapping(FileFacts(path: Bytes("/usr/lib/libc.so.6".utf8), kind: .regular), oracle: &oracle).isClean)
        XCTAssertEqual(reasons(j.judgeMapping(FileFacts(path: Bytes("/tmp/x.so".utf8), kind: .regular), oracle: &oracle)), ["drift"])
        XCTAssertEqual(reasons(j.judgeMapping(FileFacts(path: Bytes("memfd:jit".utf8), kind: .memfd), oracle: &oracle)), ["fileless"])
        XCTAssertTrue(j.judgeMapping(FileFacts(path: Bytes("/dev/zero".utf8), kind: .other), oracle: &oracle).isClean)
    }

    func testPathHelpers() {
        func n(_ s: String) -> String { String(decoding: Path.normalize(Bytes(s.utf8)), as: UTF8.self) }
        XCTAssertEqual(n("/a//b/./c/../d/"), "/a/b/d")
        XCTAssertEqual(n("/../.."), "/")
        XCTAssertTrue(Path.isBeneath(Bytes("/var/task/x".utf8), Bytes("/var/task".utf8)))
        XCTAssertFalse(Path.isBeneath(Bytes("/var/taskforce".utf8), Bytes("/var/task".utf8)))
        XCTAssertTrue(Path.globMatch(Bytes("python3.12".utf8), Bytes("python3*".utf8)))
        XCTAssertTrue(Path.globMatch(Bytes("ld-linux-x86-64.so.2".utf8), Bytes("ld-linux*.so*".utf8)))
        XCTAssertFalse(Path.globMatch(Bytes("ld.so.cache".utf8), Bytes("ld.so".utf8)))
    }
}
