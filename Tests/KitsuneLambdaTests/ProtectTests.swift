import Foundation
import XCTest
@testable import KitsuneLambda

/// `kitsune protect`: a provided.al2023 function rewrapped so the enforcer starts its bootstrap.
final class ProtectTests: LambdaTestCase {
    /// A shell runtime with a command-injection "handler": it runs the event's `cmd`.
    static let bootstrap = """
    #!/bin/sh
    API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
    while true; do
      EVENT=$(curl -sS -D /tmp/h "$API/invocation/next")
      ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' /tmp/h | cut -d' ' -f2 | tr -d '\\r')
      CMD=$(printf '%s' "$EVENT" | sed -n 's/.*"cmd": *"\\([^"]*\\)".*/\\1/p')
      OUT=$(sh -c "$CMD" 2>&1 | tr -d '"\\\\' | tr '\\n' ' ')
      curl -sS -X POST -d "{\\"out\\":\\"$OUT\\"}" "$API/invocation/$ID/response" >/dev/null
    done

    """

    func functionZip() throws -> URL {
        let dir = try Fixture.temporaryDirectory()
        try Self.bootstrap.write(to: dir.appendingPathComponent("bootstrap"), atomically: true, encoding: .utf8)
        chmod(dir.appendingPathComponent("bootstrap").path, 0o755)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try "data\n".write(to: dir.appendingPathComponent("lib/data.txt"), atomically: true, encoding: .utf8)
        chmod(dir.appendingPathComponent("lib/data.txt").path, 0o640)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link").path, withDestinationPath: "lib/data.txt")
        return try Fixture.zip(dir)
    }

    func testEntriesArePreservedAndBadZipsRefused() throws {
        let original = try functionZip()
        let protected = try Fixture.temporaryDirectory().appendingPathComponent("protected.zip")
        try FunctionProtector.protect(zip: original.path, enforcer: try Fixture.enforcerBinary(), policy: nil).write(to: protected)
        let check = try Fixture.run(["/usr/bin/python3", "-c", """
        import json, sys, zipfile
        a, b = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
        assert b.testzip() is None
        for i in a.infolist():
            name = ".kitsune-bootstrap" if i.filename == "bootstrap" else i.filename
            j = b.getinfo(name)
            assert a.read(i) == b.read(j) and i.external_attr == j.external_attr and i.date_time == j.date_time, i.filename
        m = json.loads(b.read(".kitsune/manifest.json"))
        print(m["root"], [f["path"] for f in m["files"]], oct(b.getinfo("bootstrap").external_attr >> 16),
              oct(b.getinfo("link").external_attr >> 16), b.read("link").decode())
        names = b.namelist()
        print(oct(b.getinfo(".kitsune/kitsune-enforcer").external_attr >> 16),
              oct(b.getinfo(".kitsune/kitsune-ship").external_attr >> 16) if ".kitsune/kitsune-ship" in names else "no-ship")
        """, original.path, protected.path], tool: "python3")
        // `swift build` makes kitsune-ship next to the enforcer: the protected package carries it.
        let shipBuilt = FileManager.default.fileExists(atPath: try Fixture.enforcerBinary().deletingLastPathComponent().appendingPathComponent("kitsune-ship").path)
        XCTAssertEqual(check, "/var/task ['.kitsune-bootstrap'] 0o100755 0o120777 lib/data.txt\n0o100755 \(shipBuilt ? "0o100755" : "no-ship")\n")

        let slip = try Fixture.temporaryDirectory().appendingPathComponent("slip.zip")
        try Fixture.run(["/usr/bin/python3", "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('bootstrap','#!/bin/sh'); z.writestr('../../etc/x','x'); z.close()", slip.path], tool: "python3")
        XCTAssertThrowsError(try FunctionProtector.protect(zip: slip.path, enforcer: try Fixture.enforcerBinary(), policy: nil)) {
            XCTAssertTrue("\($0)".contains("zip slip"), "\($0)")
        }
        let layer = try Fixture.temporaryDirectory().appendingPathComponent("layer.zip")
        try LayerBuilder.archive(enforcer: try Fixture.enforcerBinary(), policy: nil).write(to: layer)
        XCTAssertThrowsError(try FunctionProtector.protect(zip: layer.path, enforcer: try Fixture.enforcerBinary(), policy: nil)) {
            XCTAssertTrue("\($0)".contains("no bootstrap at the root"), "\($0)")
        }
        XCTAssertThrowsError(try FunctionProtector.protect(zip: "/etc/hostname", enforcer: try Fixture.enforcerBinary(), policy: nil))
    }

    /// Bootstraps that find their files next to themselves (`dirname "$0"`, `current_exe()`), through a
    /// relative symlink (`bootstrap -> bin/app`): the renamed bootstrap stays in the same directory.
    func testBootstrapsLocatingThemselvesKeepWorking() throws {
        let dir = try Fixture.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        let app = Self.bootstrap.replacingOccurrences(of: "#!/bin/sh\n", with: "#!/bin/sh\n. \"$(dirname \"$0\")/function.sh\"\n")
            .replacingOccurrences(of: "OUT=$(sh -c \"$CMD\" 2>&1", with: "OUT=$(greet \"$CMD\" 2>&1")
        try app.write(to: dir.appendingPathComponent("bin/app"), atomically: true, encoding: .utf8)
        chmod(dir.appendingPathComponent("bin/app").path, 0o755)
        try "greet() { echo \"greetings $1\"; }\n".write(to: dir.appendingPathComponent("function.sh"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("bootstrap").path, withDestinationPath: "bin/app")
        let protected = try Fixture.temporaryDirectory().appendingPathComponent("protected.zip")
        try FunctionProtector.protect(zip: try Fixture.zip(dir).path, enforcer: try Fixture.enforcerBinary(), policy: nil).write(to: protected)
        chmod(protected.path, 0o644)
        let lambda = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: protected, handler: "handler", runtime: "provided.al2023", timeoutSeconds: 10))
        defer { lambda.shutdown() }
        let r = lambda.invoke(event(["cmd": "world"]))
        XCTAssertEqual(r.status, .success, r.logs)
        XCTAssertTrue(r.payloadText.contains("greetings world"), "\(r.payloadText) \(r.logs)")
        XCTAssertFalse(r.logs.contains("\"action\":\"blocked\""), r.logs)
    }

    func testProtectedProvidedFunctionRunsUnderTheEnforcer() throws {
        let protected = try Fixture.temporaryDirectory().appendingPathComponent("protected.zip")
        try FunctionProtector.protect(zip: try functionZip().path, enforcer: try Fixture.enforcerBinary(), policy: nil).write(to: protected)
        chmod(protected.path, 0o644)
        let lambda = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: protected, handler: "handler", runtime: "provided.al2023", timeoutSeconds: 10, functionName: "go-fn"))
        defer { lambda.shutdown() }
        let legit = lambda.invoke(event(["cmd": "echo hello"]))
        XCTAssertEqual(legit.status, .success, legit.logs)
        XCTAssertTrue(legit.payloadText.contains("hello"), legit.payloadText)
        let attack = lambda.invoke(event(["cmd": "cp /bin/true /tmp/x; /tmp/x; echo rc=$?"]))
        XCTAssertTrue(attack.payloadText.contains("rc=126"), attack.payloadText)
        XCTAssertTrue(attack.logs.contains("\"action\":\"blocked\",\"reason\":\"drift\""), attack.logs)
        XCTAssertTrue(attack.logs.contains("\"function_name\":\"go-fn\""), attack.logs)
        // The bootstrap talks to the Runtime API through the enforcer's relay: events name the invocation.
        XCTAssertTrue(attack.logs.contains("\"request_id\":\"\(attack.requestId)\""), attack.logs)
    }
}
