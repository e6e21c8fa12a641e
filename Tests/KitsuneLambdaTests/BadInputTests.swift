import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import KitsuneLambda

/// Configuration mistakes give clear errors before anything runs.
final class BadInputTests: LambdaTestCase {
    private func code() throws -> URL { try Fixture.package([("python/noop.py", "noop.py", 0o644)]) }

    private func expectError(_ config: EmulatorConfiguration, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let emulator = try LambdaEmulator(configuration: config)
            emulator.shutdown()
            XCTFail("expected an error containing '\(text)'", file: file, line: line)
        } catch {
            XCTAssertTrue(error.description.contains(text), "\(error.description) should contain '\(text)'", file: file, line: line)
        }
    }

    func testUnsupportedRuntimeListsSupportedOnes() throws {
        expectError(EmulatorConfiguration(code: try code(), handler: "noop.handler", runtime: "cobol85"),
                    contains: "runtime 'cobol85' is not supported; supported runtimes: nodejs18.x, nodejs20.x")
        expectError(EmulatorConfiguration(code: try code(), handler: "noop.handler", runtime: "cobol85"), contains: "provided.al2023")
    }

    func testMissingHandlerAndBadValues() throws {
        expectError(EmulatorConfiguration(code: try code(), handler: " ", runtime: "python3.11"), contains: "handler is empty")
        expectError(EmulatorConfiguration(code: try code(), handler: "h", runtime: "python3.11", timeoutSeconds: 0),
                    contains: "timeout 0.0 s is outside Lambda's range")
        expectError(EmulatorConfiguration(code: try code(), handler: "h", runtime: "python3.11", memoryMB: 64),
                    contains: "memory size 64 MB")
        expectError(EmulatorConfiguration(code: try code(), handler: "h", runtime: "python3.11", environment: ["AWS_REGION": "x"]),
                    contains: "AWS_REGION are reserved by Lambda")
        expectError(EmulatorConfiguration(code: try code(), handler: "h", runtime: "python3.11", functionName: "bad name"),
                    contains: "function name 'bad name' is invalid")
    }

    func testBadZipAndMissingPackage() throws {
        let dir = try Fixture.temporaryDirectory()
        let notZip = dir.appendingPathComponent("function.zip")
        try Data("this is not a zip".utf8).write(to: notZip)
        expectError(EmulatorConfiguration(code: notZip, handler: "h", runtime: "python3.11"),
                    contains: "neither a directory nor a zip file")
        let truncated = dir.appendingPathComponent("truncated.zip")
        let good = try Data(contentsOf: try Fixture.zip(try code()))
        try good.prefix(good.count / 2).write(to: truncated)
        expectError(EmulatorConfiguration(code: truncated, handler: "h", runtime: "python3.11"), contains: "cannot list code zip (exit 9)")
        expectError(EmulatorConfiguration(code: dir.appendingPathComponent("absent"), handler: "h", runtime: "python3.11"),
                    contains: "code does not exist")
        expectError(EmulatorConfiguration(code: try code(), handler: "h", runtime: "python3.11", layers: [notZip]),
                    contains: "cannot use package \(notZip.path)")
    }

    func testZipWithTraversalPathIsRefused() throws {
        let dir = try Fixture.temporaryDirectory()
        let evil = dir.appendingPathComponent("evil.zip")
        try Fixture.run(["/usr/bin/python3", "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('app.py','x'); z.writestr('../../escape.txt','x'); z.close()", evil.path], tool: "python3")
        expectError(EmulatorConfiguration(code: evil, handler: "app.handler", runtime: "python3.11"),
                    contains: "zip has an entry outside its root: '../../escape.txt' (traversal paths are refused)")
    }

    func testProvidedWithoutBootstrap() throws {
        expectError(EmulatorConfiguration(code: try code(), handler: "h", runtime: "provided.al2023"),
                    contains: "no bootstrap found; looked for /var/task/bootstrap, /opt/bootstrap, /var/runtime/bootstrap")
    }

    func testPortInUse() throws {
        let first = try LambdaEmulator(configuration: EmulatorConfiguration(code: try code(), handler: "noop.handler", runtime: "python3.11"))
        defer { first.shutdown() }
        expectError(EmulatorConfiguration(code: try code(), handler: "noop.handler", runtime: "python3.11", port: first.port),
                    contains: "cannot listen on 127.0.0.1:\(first.port) for the Runtime API: Address already in use")
        let second = try LambdaEmulator(configuration: EmulatorConfiguration(code: try code(), handler: "noop.handler", runtime: "python3.11"))
        XCTAssertNotEqual(first.port, second.port, "a free port is picked by default")
    }

    func testEventFiles() throws {
        let dir = try Fixture.temporaryDirectory()
        let lines = dir.appendingPathComponent("events.jsonl")
        try "{\"a\":1}\n\n[2]\n{oops\n".write(to: lines, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try EventSource.lines(lines.path)) { error in
            XCTAssertEqual("\(error)", "bad event: \(lines.path) line 4 is not valid JSON")
        }
        try "{\"a\":1}\n\n[2]\n".write(to: lines, atomically: true, encoding: .utf8)
        XCTAssertEqual(try EventSource.lines(lines.path).count, 2)
        XCTAssertEqual(try EventSource.single(nil, repeatCount: 3), Array(repeating: Data("{}".utf8), count: 3))
        XCTAssertThrowsError(try EventSource.single(dir.appendingPathComponent("none").path, repeatCount: 1))
    }

    func testReportLineRoundTripsAndParsesLambdasFormat() {
        let lambda = "REPORT RequestId: 3e5a4a1c-8d2b-4c0e-9f11-2a5e0c7b9d10\tDuration: 3001.45 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\tInit Duration: 171.83 ms\tStatus: timeout"
        let parsed = InvocationReport.parse(lambda)
        XCTAssertEqual(parsed, InvocationReport(requestId: "3e5a4a1c-8d2b-4c0e-9f11-2a5e0c7b9d10", durationMs: 3001.45,
                                                billedDurationMs: 3000, memorySizeMB: 128, maxMemoryUsedMB: 41,
                                                initDurationMs: 171.83, status: "timeout"))
        XCTAssertEqual(parsed?.line, lambda)
        XCTAssertNil(InvocationReport.parse("START RequestId: x"))
        XCTAssertNil(InvocationReport.parse("REPORT RequestId: x\tDuration: many ms"))
    }
}
