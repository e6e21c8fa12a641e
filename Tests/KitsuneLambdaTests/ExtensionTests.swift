import Foundation
import XCTest
@testable import KitsuneLambda

/// External extensions in /opt/extensions, and AWS_LAMBDA_EXEC_WRAPPER for Python.
final class ExtensionTests: LambdaTestCase {
    func testExternalExtensionGetsEveryInvokeAndShutdown() throws {
        try Fixture.requireAwslambdaric()
        let code = try Fixture.package([("python/app.py", "app.py", 0o644)])
        let layer = try Fixture.zip(try Fixture.package([("layer/extension.sh", "extensions/audit-ext", 0o755)]))
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "app.handler", runtime: "python3.11", layers: [layer]))
        let results = (1...3).map { _ in emulator.invoke(event(["action": "info"])) }
        XCTAssertTrue(results[0].logs.contains("EXT registered audit-ext"), results[0].logs)
        for result in results {
            XCTAssertEqual(result.status, .success, result.payloadText)
            XCTAssertTrue(result.logs.contains("EXT INVOKE \(result.requestId)"), "INVOKE reached the extension: \(result.logs)")
        }
        let shutdown = emulator.shutdown()
        XCTAssertEqual(shutdown.extensionsNotified, ["audit-ext"])
        XCTAssertTrue(shutdown.logs.contains("EXT SHUTDOWN spindown"), shutdown.logs)
        XCTAssertEqual(shutdown.leakedProcesses, [])
    }

    func testTimeoutSendsShutdownWithReasonTimeoutAndRestartsExtensions() throws {
        try Fixture.requireAwslambdaric()
        let code = try Fixture.package([("python/app.py", "app.py", 0o644)])
        let layer = try Fixture.package([("layer/extension.sh", "extensions/audit-ext", 0o755)])
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "app.handler", runtime: "python3.11", layers: [layer], timeoutSeconds: 1))
        defer { emulator.shutdown() }
        let timedOut = emulator.invoke(event(["action": "sleep", "seconds": 10]))
        XCTAssertEqual(timedOut.status, .timeout)
        XCTAssertTrue(timedOut.logs.contains("EXT INVOKE \(timedOut.requestId)"), timedOut.logs)
        XCTAssertTrue(timedOut.logs.contains("EXT SHUTDOWN timeout"), timedOut.logs)
        let next = emulator.invoke(event(["action": "info"]))
        XCTAssertEqual(next.status, .success)
        XCTAssertTrue(next.logs.contains("EXT registered audit-ext"), "extensions start again with the new sandbox")
        XCTAssertTrue(next.logs.contains("EXT INVOKE \(next.requestId)"), next.logs)
    }

    func testMissingExecWrapperIsAnInitError() throws {
        try Fixture.requireAwslambdaric()
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try Fixture.package([("python/app.py", "app.py", 0o644)]), handler: "app.handler", runtime: "python3.11",
            environment: ["AWS_LAMBDA_EXEC_WRAPPER": "/opt/not-there"]))
        defer { emulator.shutdown() }
        let result = emulator.invoke(event([:]))
        XCTAssertEqual(result.status, .error)
        XCTAssertEqual(result.errorType, "Runtime.InvalidEntrypoint")
        let message = try result.json()["errorMessage"] as? String ?? ""
        XCTAssertTrue(message.contains("execve failed for /opt/not-there: No such file or directory"), message)
    }

    func testExtensionThatNeverRegistersFailsInitWithoutHanging() throws {
        try Fixture.requireAwslambdaric()
        let dir = try Fixture.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("extensions"), withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("extensions/lazy")
        try "#!/bin/sh\nexit 4\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try Fixture.package([("python/app.py", "app.py", 0o644)]), handler: "app.handler",
            runtime: "python3.11", layers: [dir]))
        defer { emulator.shutdown() }
        let result = emulator.invoke(event([:]))
        XCTAssertEqual(result.status, .error)
        XCTAssertEqual(result.errorType, "Extension.Crash")
        XCTAssertEqual(try result.json()["errorMessage"] as? String, "Extension lazy exited with error: exit status 4")
    }

    func testPythonExecWrapperGetsTheRuntimeCommand() throws {
        try Fixture.requireAwslambdaric()
        let code = try Fixture.package([("python/app.py", "app.py", 0o644)])
        let layer = try Fixture.package([("layer/wrapper.sh", "kitsune/wrapper", 0o755)])
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "app.handler", runtime: "python3.11", layers: [layer],
            environment: ["AWS_LAMBDA_EXEC_WRAPPER": "/opt/kitsune/wrapper"]))
        defer { emulator.shutdown() }
        let env = try emulator.invoke(event(["action": "info"])).json()["env"] as? [String: String] ?? [:]
        XCTAssertEqual(env["WRAPPED"], "wrapper saw: /usr/bin/python3.11 -m awslambdaric app.handler")
        XCTAssertEqual(env["AWS_LAMBDA_EXEC_WRAPPER"], "/opt/kitsune/wrapper")
    }
}
