import Foundation
import XCTest
@testable import KitsuneLambda

/// Python functions under AWS's unmodified awslambdaric.
final class PythonRuntimeTests: LambdaTestCase {
    private func pythonPackage(zip: Bool = false) throws -> URL {
        try Fixture.requireAwslambdaric()
        let dir = try Fixture.package([("python/app.py", "app.py", 0o644), ("python/broken.py", "broken.py", 0o644)])
        return zip ? try Fixture.zip(dir) : dir
    }

    func testWarmInvocationsShareOneColdStartWithLambdaEnvironment() throws {
        let code = try pythonPackage(zip: true)
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "app.handler", runtime: "python3.11", timeoutSeconds: 5, memoryMB: 256,
            environment: ["MY_SETTING": "on"], functionName: "orders-api", region: "eu-west-1"))
        defer { emulator.shutdown() }
        let results = (1...3).map { _ in emulator.invoke(event(["action": "info", "n": 1])) }
        for (i, result) in results.enumerated() {
            XCTAssertEqual(result.status, .success, result.payloadText)
            let body = try result.json()
            XCTAssertEqual(body["count"] as? Int, i + 1, "one cold start serves every invocation")
            XCTAssertEqual(body["requestId"] as? String, result.requestId)
            XCTAssertEqual(result.report.requestId, result.requestId)
            XCTAssertEqual(i == 0, result.report.initDurationMs != nil, "Init Duration only on the first invocation")
            XCTAssertTrue(result.logs.contains("app.py invocation \(i + 1) action=info"), result.logs)
            XCTAssertTrue(result.logs.contains("START RequestId: \(result.requestId) Version: $LATEST"), result.logs)
            XCTAssertTrue(result.logs.hasSuffix("END RequestId: \(result.requestId)\n"), result.logs)
            let parsed = InvocationReport.parse(result.report.line)
            XCTAssertEqual(parsed?.requestId, result.requestId)
            XCTAssertEqual(parsed?.memorySizeMB, 256)
            XCTAssertEqual(parsed?.billedDurationMs, Int(result.report.durationMs.rounded(.up)))
            XCTAssertGreaterThan(result.report.maxMemoryUsedMB, 0)
        }
        let body = try results[0].json()
        XCTAssertEqual(body["uid"] as? Int, 65534)
        XCTAssertEqual(body["gid"] as? Int, 65534)
        XCTAssertEqual(body["noNewPrivs"] as? String, "1")
        XCTAssertEqual(body["blockedSignals"] as? String, "0000000000000000", "no signal mask inherited from the emulator")
        XCTAssertEqual(body["cwd"] as? String, "/var/task")
        XCTAssertEqual(body["arn"] as? String, "arn:aws:lambda:eu-west-1:000000000000:function:orders-api")
        let remaining = body["remainingMs"] as? Int ?? 0
        XCTAssertTrue(remaining > 3000 && remaining <= 5000, "deadline header honoured: \(remaining)")
        let env = body["env"] as? [String: String] ?? [:]
        XCTAssertEqual(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:\(emulator.port)")
        XCTAssertEqual(env["_HANDLER"], "app.handler")
        XCTAssertEqual(env["LAMBDA_TASK_ROOT"], "/var/task")
        XCTAssertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "orders-api")
        XCTAssertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256")
        XCTAssertEqual(env["AWS_REGION"], "eu-west-1")
        XCTAssertEqual(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.11")
        XCTAssertEqual(env["MY_SETTING"], "on")
        XCTAssertNotNil(env["AWS_SESSION_TOKEN"])
        XCTAssertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/orders-api")
    }

    func testCodeAndLayersAreReadOnlyAndTmpIsPrivateAndPersistsWhileWarm() throws {
        let layer = try Fixture.package([("layer/wrapper.sh", "bin/tool.sh", 0o755)])
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try pythonPackage(), handler: "app.handler", runtime: "python3.11", layers: [try Fixture.zip(layer)]))
        defer { emulator.shutdown() }
        let first = try emulator.invoke(event(["action": "fs"])).json()
        let second = try emulator.invoke(event(["action": "fs"])).json()
        XCTAssertEqual(first["task"] as? String, "Read-only file system")
        XCTAssertEqual(first["opt"] as? String, "Read-only file system")
        XCTAssertEqual(first["tmp"] as? String, "ok")
        XCTAssertEqual(first["previous"] as? String, "")
        XCTAssertEqual(second["previous"] as? String, "i", "/tmp survives between warm invocations")
        XCTAssertEqual(first["taskFiles"] as? [String], ["app.py", "broken.py"])
        XCTAssertEqual(first["optFiles"] as? [String], ["bin"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/counter"), "the function's /tmp is not the host's")
        XCTAssertTrue(FileManager.default.fileExists(atPath: emulator.layout.tmp + "/counter"))
    }

    /// A dependency layer's `python/` and `python/lib/python3.11/site-packages/` are importable, as on Lambda.
    func testPythonLayerPackagesAreImportable() throws {
        let code = try Fixture.temporaryDirectory(), layer = try Fixture.temporaryDirectory()
        try FileManager.default.createDirectory(at: layer.appendingPathComponent("python/lib/python3.11/site-packages"), withIntermediateDirectories: true)
        try "NAME = 'site'\n".write(to: layer.appendingPathComponent("python/lib/python3.11/site-packages/sitedep.py"), atomically: true, encoding: .utf8)
        try "NAME = 'plain'\n".write(to: layer.appendingPathComponent("python/plaindep.py"), atomically: true, encoding: .utf8)
        try "import plaindep, sitedep\ndef handler(e, c):\n    return [plaindep.NAME, sitedep.NAME]\n"
            .write(to: code.appendingPathComponent("app.py"), atomically: true, encoding: .utf8)
        for dir in [code, layer] { _ = try Fixture.run(["/bin/chmod", "-R", "a+rX", dir.path], tool: "chmod") }
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(code: code, handler: "app.handler", runtime: "python3.11", layers: [layer]))
        defer { emulator.shutdown() }
        let r = emulator.invoke(event([:]))
        XCTAssertEqual(r.status, .success, r.payloadText + r.logs)
        XCTAssertEqual(r.payloadText, #"["plain", "site"]"#)
    }

    func testFunctionErrorIsReturnedLikeLambda() throws {
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try pythonPackage(), handler: "app.handler", runtime: "python3.11"))
        defer { emulator.shutdown() }
        let failed = emulator.invoke(event(["action": "error"]))
        XCTAssertEqual(failed.status, .functionError)
        XCTAssertEqual(failed.errorType, "ValueError")
        let body = try failed.json()
        XCTAssertEqual(body["errorType"] as? String, "ValueError")
        XCTAssertEqual(body["errorMessage"] as? String, "the event asked for an error")
        XCTAssertNil(failed.report.status, "a handled function error has no REPORT status")
        let after = emulator.invoke(event(["action": "info"]))
        XCTAssertEqual(after.status, .success)
        XCTAssertNil(after.report.initDurationMs, "the sandbox stays warm after a function error")
    }

    func testTimeoutKillsTheTreeReportsAndReinitialises() throws {
        let marker = "KITSUNE_TEST_MARK_\(UUID().uuidString)"
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try pythonPackage(), handler: "app.handler", runtime: "python3.11", timeoutSeconds: 1,
            environment: ["KITSUNE_MARK": marker]))
        defer { emulator.shutdown() }
        let started = Date()
        let timedOut = emulator.invoke(event(["action": "spawn-and-hang"]))
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "the emulator does not hang")
        XCTAssertEqual(timedOut.status, .timeout)
        XCTAssertEqual(timedOut.report.status, "timeout")
        XCTAssertTrue(timedOut.report.line.contains("Status: timeout"), timedOut.report.line)
        XCTAssertGreaterThanOrEqual(timedOut.report.durationMs, 1000)
        XCTAssertEqual(try timedOut.json()["errorMessage"] as? String,
                       "RequestId: \(timedOut.requestId) Error: Task timed out after 1.00 seconds")
        XCTAssertTrue(timedOut.logs.contains("\(timedOut.requestId) Task timed out after 1.00 seconds"), timedOut.logs)
        XCTAssertEqual(Fixture.processes(withMarker: marker), [], "runtime and its setsid() grandchild are gone")
        let next = emulator.invoke(event(["action": "info"]))
        XCTAssertEqual(next.status, .success, next.payloadText)
        XCTAssertNotNil(next.report.initDurationMs, "a new sandbox is initialised after a timeout")
        XCTAssertEqual(try next.json()["count"] as? Int, 1)
        let shutdown = emulator.shutdown()
        XCTAssertEqual(shutdown.leakedProcesses, [])
        XCTAssertEqual(Fixture.processes(withMarker: marker), [])
    }

    func testRuntimeCrashDuringInvokeIsReportedAsError() throws {
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try pythonPackage(), handler: "app.handler", runtime: "python3.11"))
        defer { emulator.shutdown() }
        let crashed = emulator.invoke(event(["action": "crash"]))
        XCTAssertEqual(crashed.status, .error)
        XCTAssertEqual(crashed.errorType, "Runtime.ExitError")
        XCTAssertEqual(try crashed.json()["errorMessage"] as? String,
                       "RequestId: \(crashed.requestId) Error: Runtime exited with error: exit status 3")
        XCTAssertTrue(crashed.report.line.hasSuffix("Status: error\tError Type: Runtime.ExitError"), crashed.report.line)
        let next = emulator.invoke(event(["action": "info"]))
        XCTAssertEqual(next.status, .success)
        XCTAssertNotNil(next.report.initDurationMs)
    }

    func testCrashDuringInitAndMissingHandler() throws {
        let code = try pythonPackage()
        let cases = [("broken.handler", "RuntimeError", "broken at import time"),
                     ("nowhere.handler", "Runtime.ImportModuleError", "Unable to import module 'nowhere': No module named 'nowhere'")]
        for (handler, type, message) in cases {
            let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(code: code, handler: handler, runtime: "python3.11"))
            let result = emulator.invoke(event([:]))
            XCTAssertEqual(result.status, .error, handler)
            XCTAssertEqual(result.errorType, type, result.payloadText)
            XCTAssertEqual(try result.json()["errorMessage"] as? String, message)
            XCTAssertNotNil(result.report.initDurationMs, handler)
            XCTAssertTrue(result.report.line.hasSuffix("Status: error\tError Type: \(type)"), result.report.line)
            XCTAssertTrue(result.logs.contains("INIT_REPORT Init Duration:"), result.logs)
            // The failed sandbox is gone; the next invocation tries a new cold start (and fails the same way).
            XCTAssertNotNil(emulator.invoke(event([:])).report.initDurationMs)
            XCTAssertEqual(emulator.shutdown().leakedProcesses, [])
        }
    }

    func testMemorySizeIsEnforcedLikeLambda() throws {
        var config = EmulatorConfiguration(code: try pythonPackage(), handler: "app.handler", runtime: "python3.11",
                                           timeoutSeconds: 10, memoryMB: 128)
        config.measureProcessTreeRSS = true
        let emulator = try LambdaEmulator(configuration: config)
        defer { emulator.shutdown() }
        let small = emulator.invoke(event(["action": "hog", "megabytes": 40]))
        XCTAssertGreaterThan(small.processTreePeakRSSBytes ?? 0, 40 << 20, "VmHWM of the runtime includes the 40 MB")
        XCTAssertNotEqual(emulator.memorySource, "sum of VmHWM over the process tree", "this host should offer a memory cgroup")
        XCTAssertEqual(try small.json()["allocated"] as? Int, 40)
        XCTAssertGreaterThanOrEqual(small.report.maxMemoryUsedMB, 40, small.report.line)
        let hog = emulator.invoke(event(["action": "hog", "megabytes": 512]))
        XCTAssertEqual(hog.status, .error, hog.payloadText)
        XCTAssertEqual(hog.errorType, "Runtime.OutOfMemory")
        XCTAssertEqual(try hog.json()["errorMessage"] as? String, "RequestId: \(hog.requestId) Error: Runtime exited with error: signal: killed")
        XCTAssertLessThanOrEqual(hog.report.maxMemoryUsedMB, 129, hog.report.line)
        XCTAssertGreaterThanOrEqual(hog.report.maxMemoryUsedMB, 100, hog.report.line)
    }

    func testSandboxIsFrozenBetweenInvocationsLikeLambda() throws {
        for freeze in [true, false] {
            var config = EmulatorConfiguration(code: try pythonPackage(), handler: "app.handler", runtime: "python3.11")
            config.freezeBetweenInvocations = freeze
            let emulator = try LambdaEmulator(configuration: config)
            XCTAssertEqual(emulator.invoke(event(["action": "ticker"])).status, .success)
            let ticks = { (try? Data(contentsOf: URL(fileURLWithPath: emulator.layout.tmp + "/ticks")).count) ?? 0 }
            usleep(100_000)
            let first = ticks()
            usleep(300_000)
            let second = ticks()
            if freeze {
                XCTAssertTrue(emulator.tracker?.canFreeze ?? false, "this host should offer the cgroup v2 freezer")
                XCTAssertEqual(first, second, "a frozen sandbox runs no background thread")
                XCTAssertEqual(emulator.invoke(event(["action": "sleep", "seconds": 0.2])).status, .success, "thawed for the next invocation")
                XCTAssertGreaterThan(ticks(), second + 10, "the background thread runs again during the invocation")
            } else {
                XCTAssertGreaterThan(second, first + 10, "without freezing the thread keeps running")
            }
            XCTAssertEqual(emulator.shutdown().leakedProcesses, [])
        }
    }

    func testRuntimeAPIServerAnswersBadRequestsClearly() throws {
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try pythonPackage(), handler: "app.handler", runtime: "python3.11", timeoutSeconds: 10))
        defer { emulator.shutdown() }
        let probe = emulator.invoke(event(["action": "probe-http"]))
        XCTAssertEqual(probe.status, .success, probe.payloadText)
        let body = try probe.json()
        XCTAssertEqual(body["pipelined"] as? [Int], [404, 404], "two pipelined requests on one kept-alive connection")
        XCTAssertEqual(body["tooLarge"] as? [Int], [413])
        XCTAssertEqual(body["hugeHeader"] as? [Int], [431])
        XCTAssertEqual(body["http2"] as? [Int], [505])
        XCTAssertEqual(body["badChunk"] as? [Int], [400])
        XCTAssertEqual(body["initErrorLate"] as? [Int], [403])
        XCTAssertEqual(body["extensionUnknown"] as? [Int], [403])
        XCTAssertEqual(body["registerLate"] as? [Int], [403])
    }

    func testResponseLargerThanSixMegabytesIsRefused() throws {
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try pythonPackage(), handler: "app.handler", runtime: "python3.11", timeoutSeconds: 10))
        defer { emulator.shutdown() }
        let big = emulator.invoke(event(["action": "big"]))
        XCTAssertEqual(big.errorType, "Function.ResponseSizeTooLarge", big.payloadText.prefix(300).description)
        XCTAssertEqual(emulator.invoke(event(["action": "info"])).status, .success, "the runtime carries on")
        let hugeEvent = emulator.invoke(InvocationRequest(payload: Data(repeating: 0x20, count: LambdaEmulator.maxPayloadBytes + 1)))
        XCTAssertEqual(hugeEvent.errorType, "RequestEntityTooLargeException")
        XCTAssertEqual(emulator.invoke(event(["action": "info"])).status, .success)
    }
}
