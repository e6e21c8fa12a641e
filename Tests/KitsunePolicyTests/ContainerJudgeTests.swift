import KitsunePolicyCore
import XCTest

/// A manifest rooted at `/` (a container image) is the package: its files are trusted wherever they
/// are, as long as their content matches; anything else is drift, beneath the system roots too.
final class ContainerJudgeTests: XCTestCase {
    let good = Bytes(repeating: 0xAB, count: 32), bad = Bytes(repeating: 0xCD, count: 32)

    func manifest() throws -> ManifestIndex {
        let hex = String(repeating: "ab", count: 32)
        let json = """
            {"version":1,"root":"/","files":[
            {"path":"usr/bin/dash","sha256":"\(hex)","size":100,"mode":"0755","kind":"elf"},
            {"path":"app/server","sha256":"\(hex)","size":100,"mode":"0755","kind":"elf"},
            {"path":"app/main.py","sha256":"\(hex)","size":100,"mode":"0644","kind":"script"}]}
            """
        return try ManifestIndex.parse(Bytes(json.utf8))
    }

    func verdict(_ exe: String, _ argv: [String], _ oracle: inout TableOracle) throws -> [String] {
        var policy = Policy()
        policy.systemRoots = [Bytes("/usr".utf8)]
        var py = InterpreterRule()
        py.names = [Bytes("python3*".utf8)]
        policy.interpreters = [py]
        let attempt = ExecAttempt(executable: oracle.lookup(Bytes(exe.utf8), cwd: [47]), argv: argv.map { Bytes($0.utf8) }, cwd: [47])
        let v = ExecJudge(policy: policy, manifest: try manifest()).judge(attempt, oracle: &oracle)
        return v.violations.map { String(decoding: $0.reason.name, as: UTF8.self) }
    }

    func testListedFilesAreTrustedAnywhereAndOnlyWithTheirContent() throws {
        var o = TableOracle()
        o.add("/usr/bin/dash", digest: good)
        o.add("/app/server", digest: good)
        o.add("/usr/bin/python3.11", digest: good)          // beneath a system root but not in the image's manifest
        o.add("/tmp/server", digest: good)                  // the same content copied elsewhere
        XCTAssertEqual(try verdict("/usr/bin/dash", ["sh"], &o), [])
        XCTAssertEqual(try verdict("/app/server", ["server"], &o), [])
        XCTAssertEqual(try verdict("/usr/bin/python3.11", ["python3"], &o), ["drift"])
        XCTAssertEqual(try verdict("/tmp/server", ["server"], &o), ["drift"])
        o.add("/app/server", digest: bad)                   // rewritten in place
        XCTAssertEqual(try verdict("/app/server", ["server"], &o), ["drift"])
    }

    func testListedScriptsRunThroughInterpretersOthersDoNot() throws {
        var o = TableOracle()
        o.add("/usr/bin/python3.11", digest: good)
        o.add("/app/main.py", digest: good)
        o.add("/app/other.py", digest: good)
        let mf = try manifest()
        var policy = Policy()
        policy.systemRoots = [Bytes("/usr".utf8)]
        var py = InterpreterRule()
        py.names = [Bytes("python3*".utf8)]
        policy.interpreters = [py]
        let judge = ExecJudge(policy: policy, manifest: mf)
        func scripts(_ script: String) -> [String] {
            // The interpreter itself is judged as listed-or-not separately; only the script rule matters here.
            let attempt = ExecAttempt(executable: FileFacts(path: Bytes("/usr/bin/python3.11".utf8), kind: .regular, size: 100),
                                      argv: [Bytes("python3".utf8), Bytes(script.utf8)], cwd: [47])
            return judge.judge(attempt, oracle: &o).violations.map { String(decoding: $0.reason.name, as: UTF8.self) }.filter { $0 != "drift" }
        }
        XCTAssertEqual(scripts("/app/main.py"), [])
        XCTAssertEqual(scripts("/app/other.py"), ["interpreter_script"])
        o.add("/app/main.py", digest: bad)
        XCTAssertEqual(scripts("/app/main.py"), ["interpreter_script"])
    }

    func testMappingsOfListedLibrariesOutsideTheRoots() throws {
        var o = TableOracle()
        o.add("/app/lib/libx.so", digest: good)
        var policy = Policy()
        policy.systemRoots = [Bytes("/usr".utf8)]
        let hex = String(repeating: "ab", count: 32)
        let mf = try ManifestIndex.parse(Bytes("{\"version\":1,\"root\":\"/\",\"files\":[{\"path\":\"app/lib/libx.so\",\"sha256\":\"\(hex)\",\"size\":100}]}".utf8))
        let judge = ExecJudge(policy: policy, manifest: mf)
        XCTAssertTrue(judge.judgeMapping(o.lookup(Bytes("/app/lib/libx.so".utf8), cwd: [47]), oracle: &o).isClean)
        o.add("/app/lib/libx.so", digest: bad)
        XCTAssertFalse(judge.judgeMapping(o.lookup(Bytes("/app/lib/libx.so".utf8), cwd: [47]), oracle: &o).isClean)
        o.add("/tmp/liby.so", digest: good)
        XCTAssertFalse(judge.judgeMapping(o.lookup(Bytes("/tmp/liby.so".utf8), cwd: [47]), oracle: &o).isClean)
    }
}
