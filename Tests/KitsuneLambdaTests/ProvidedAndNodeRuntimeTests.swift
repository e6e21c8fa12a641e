import Foundation
import XCTest
@testable import KitsuneLambda

/// provided.al2023 bootstraps (shell + curl, and compiled C) and the Node.js runtime loop.
final class ProvidedAndNodeRuntimeTests: LambdaTestCase {
    func testShellBootstrapSpeaksTheRuntimeAPIWithHeadersAndChunkedBodies() throws {
        _ = try Fixture.run(["/usr/bin/curl", "--version"], tool: "curl (apt-get install curl)")
        let code = try Fixture.zip(try Fixture.package([("provided/bootstrap", "bootstrap", 0o755)]))
        // provided.* ignore AWS_LAMBDA_EXEC_WRAPPER: a wrapper that does not exist must not matter.
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "function.handler", runtime: "provided.al2023", timeoutSeconds: 5,
            environment: ["AWS_LAMBDA_EXEC_WRAPPER": "/opt/does-not-exist"], functionName: "shell-fn"))
        defer { emulator.shutdown() }
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let first = emulator.invoke(InvocationRequest(payload: Data(#"{"hello":"world"}"#.utf8)))
        XCTAssertEqual(first.status, .success, first.payloadText + first.logs)
        let body = try first.json()
        XCTAssertEqual(body["requestId"] as? String, first.requestId)
        XCTAssertEqual(body["arn"] as? String, "arn:aws:lambda:us-east-1:000000000000:function:shell-fn")
        XCTAssertEqual((body["event"] as? [String: String])?["hello"], "world")
        XCTAssertTrue((body["trace"] as? String ?? "").hasPrefix("Root=1-"))
        let deadline = (body["deadline"] as? NSNumber)?.int64Value ?? 0
        XCTAssertTrue(deadline >= before + 4000 && deadline <= before + 6000, "deadline \(deadline) vs \(before)")
        XCTAssertTrue(first.logs.contains("bootstrap starting as uid 65534, handler function.handler"), first.logs)

        let probe = try emulator.invoke(InvocationRequest(payload: Data(#""probe""#.utf8))).json()
        XCTAssertEqual(probe["notFound"] as? Int, 404)
        XCTAssertEqual(probe["badMethod"] as? Int, 405)
        XCTAssertEqual(probe["badId"] as? Int, 400)

        let failed = emulator.invoke(InvocationRequest(payload: Data(#""fail""#.utf8)))
        XCTAssertEqual(failed.status, .functionError)
        XCTAssertEqual(failed.errorType, "Shell.Failure")
        let withContext = emulator.invoke(InvocationRequest(payload: Data("{}".utf8), clientContext: "eyJjdXN0b20iOnt9fQ==",
                                                             cognitoIdentity: #"{"cognitoIdentityId":"id-1"}"#))
        XCTAssertNil(withContext.report.initDurationMs)
        let context = try withContext.json()
        XCTAssertEqual(context["client"] as? String, "eyJjdXN0b20iOnt9fQ==")
        XCTAssertEqual((context["cognito"] as? [String: String])?["cognitoIdentityId"], "id-1")
        XCTAssertEqual(try first.json()["client"] as? String, "", "no client context header unless given")
    }

    func testCompiledCBootstrapFromLayer() throws {
        let build = try Fixture.temporaryDirectory()
        try Fixture.run(["/usr/bin/gcc", "-O2", "-o", build.appendingPathComponent("bootstrap").path,
                         Fixture.root.appendingPathComponent("provided/bootstrap.c").path], tool: "gcc (apt-get install gcc)")
        // No /var/task/bootstrap: Lambda falls back to /opt/bootstrap from a layer.
        let code = try Fixture.package([("python/noop.py", "unused.txt", 0o644)])
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "unused", runtime: "provided.al2", layers: [build]))
        defer { emulator.shutdown() }
        for n in 1...3 {
            let result = emulator.invoke(InvocationRequest(payload: Data("{\"n\":\(n)}".utf8)))
            XCTAssertEqual(result.status, .success, result.payloadText)
            let body = try result.json()
            XCTAssertEqual(body["from"] as? String, "c")
            XCTAssertEqual(body["requestId"] as? String, result.requestId)
            XCTAssertEqual((body["event"] as? [String: Int])?["n"], n)
        }
    }

    func testNodeHandlerUnderKitsuneRuntimeLoopWithExecWrapper() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/node") else {
            throw TestToolMissing(message: "/usr/bin/node is missing: apt-get install nodejs")
        }
        let code = try Fixture.package([("node/index.js", "index.js", 0o644)])
        let layer = try Fixture.package([("layer/wrapper.sh", "wrapper.sh", 0o755)])
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: code, handler: "index.handler", runtime: "nodejs20.x", layers: [layer],
            environment: ["AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrapper.sh"]))
        defer { emulator.shutdown() }
        let first = emulator.invoke(InvocationRequest(payload: Data(#"{"a":1}"#.utf8)))
        XCTAssertEqual(first.status, .success, first.payloadText + first.logs)
        let body = try first.json()
        XCTAssertEqual(body["count"] as? Int, 1)
        XCTAssertEqual(body["requestId"] as? String, first.requestId)
        XCTAssertEqual(body["uid"] as? Int, 65534)
        // Lambda passes the runtime command to the wrapper as its arguments.
        XCTAssertEqual(body["wrapped"] as? String, "wrapper saw: /usr/bin/node /var/runtime/node-runtime/index.js")
        let failed = emulator.invoke(InvocationRequest(payload: Data(#"{"action":"error"}"#.utf8)))
        XCTAssertEqual(failed.status, .functionError)
        XCTAssertEqual(failed.errorType, "TypeError")
        XCTAssertEqual(try failed.json()["errorMessage"] as? String, "node handler failed on purpose")
        XCTAssertEqual(try emulator.invoke(InvocationRequest(payload: Data("{}".utf8))).json()["count"] as? Int, 3)
    }

    /// Handler forms AWS's Node.js runtime accepts: a nested property path, a `.cjs` module, the legacy
    /// `context.succeed`, an ESM module, and packages from a layer's `nodejs/node20/node_modules`.
    func testNodeHandlerFormsAndLayerModulesLikeLambda() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/node") else {
            throw TestToolMissing(message: "/usr/bin/node is missing: apt-get install nodejs")
        }
        let code = try Fixture.temporaryDirectory(), layer = try Fixture.temporaryDirectory()
        try FileManager.default.createDirectory(at: code.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: layer.appendingPathComponent("nodejs/node20/node_modules/greeter"), withIntermediateDirectories: true)
        try "module.exports = (n) => `hello ${n}`;\n".write(to: layer.appendingPathComponent("nodejs/node20/node_modules/greeter/index.js"), atomically: true, encoding: .utf8)
        try "const greet = require('greeter');\nmodule.exports = { nested: { deep: (e, context) => context.succeed({ said: greet(e.name) }) } };\n"
            .write(to: code.appendingPathComponent("lib/index.cjs"), atomically: true, encoding: .utf8)
        try "export const handler = async (e) => ({ esm: e.name });\n".write(to: code.appendingPathComponent("esm.mjs"), atomically: true, encoding: .utf8)
        for dir in [code, layer] { _ = try Fixture.run(["/bin/chmod", "-R", "a+rX", dir.path], tool: "chmod") }
        for (handler, key, expected) in [("lib/index.nested.deep", "said", "hello kit"), ("esm.handler", "esm", "kit")] {
            let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(code: code, handler: handler, runtime: "nodejs20.x", layers: [layer]))
            let r = emulator.invoke(event(["name": "kit"]))
            emulator.shutdown()
            XCTAssertEqual(r.status, .success, "\(handler): \(r.payloadText) \(r.logs)")
            XCTAssertEqual(try r.json()[key] as? String, expected, handler)
        }
    }

    func testNodeHandlerThatDoesNotExistFailsInit() throws {
        let code = try Fixture.package([("node/index.js", "index.js", 0o644)])
        for (handler, type) in [("index.missing", "Runtime.HandlerNotFound"), ("absent.handler", "Runtime.ImportModuleError")] {
            let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(code: code, handler: handler, runtime: "nodejs20.x"))
            let result = emulator.invoke(InvocationRequest(payload: Data("{}".utf8)))
            XCTAssertEqual(result.status, .error, result.payloadText)
            XCTAssertEqual(result.errorType, type, result.payloadText)
            XCTAssertEqual(result.report.status, "error")
            emulator.shutdown()
        }
    }
}
