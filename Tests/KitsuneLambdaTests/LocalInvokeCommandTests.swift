import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `kitsune local invoke` command line, run as a real process.
final class LocalInvokeCommandTests: LambdaTestCase {
    private func binary() throws -> URL {
        // On Linux the bundle URL is the build directory; elsewhere it is the .xctest inside it.
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle.appendingPathComponent("kitsune"), bundle.deletingLastPathComponent().appendingPathComponent("kitsune")]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestToolMissing(message: "the kitsune binary is not built next to the tests: \(candidates.map(\.path))")
        }
        return binary
    }

    private func kitsune(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so neither fills up.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.value, as: UTF8.self))
    }

    func testEventsFileGivesOneResponseAndOneReportPerInvocation() throws {
        try Fixture.requireAwslambdaric()
        let code = try Fixture.zip(try Fixture.package([("python/app.py", "app.py", 0o644)]))
        let events = try Fixture.temporaryDirectory().appendingPathComponent("events.jsonl")
        try "{\"action\":\"info\",\"n\":1}\n{\"action\":\"error\"}\n{\"action\":\"info\",\"n\":3}\n".write(to: events, atomically: true, encoding: .utf8)
        let run = try kitsune(["local", "invoke", "--code", code.path, "--handler", "app.handler", "--runtime", "python3.11",
                               "--events", events.path, "--env", "GREETING=hi", "--function-name", "cli-fn", "--memory", "256"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let responses = run.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(responses.count, 3, run.stdout)
        XCTAssertEqual(responses[0]?["count"] as? Int, 1)
        XCTAssertEqual((responses[0]?["env"] as? [String: String])?["GREETING"], "hi")
        XCTAssertEqual(responses[1]?["errorType"] as? String, "ValueError")
        XCTAssertEqual(responses[2]?["count"] as? Int, 3)
        let reports = run.stderr.split(separator: "\n").compactMap { InvocationReportLine.parse(String($0)) }
        XCTAssertEqual(reports.count, 3, run.stderr)
        XCTAssertEqual(reports.map(\.hasInit), [true, false, false])
        XCTAssertTrue(reports.allSatisfy { $0.memorySize == "256 MB" })
        XCTAssertTrue(run.stderr.contains("app.py invocation 2 action=error"), "function logs go to stderr")
    }

    func testInterruptKillsTheSandboxBeforeExiting() throws {
        try Fixture.requireAwslambdaric()
        let code = try Fixture.package([("python/app.py", "app.py", 0o644)])
        let eventFile = try Fixture.temporaryDirectory().appendingPathComponent("e.json")
        try #"{"action":"spawn-and-hang"}"#.write(to: eventFile, atomically: true, encoding: .utf8)
        let marker = "KITSUNE_CLI_MARK_\(UUID().uuidString)"
        let process = Process()
        process.executableURL = try binary()
        process.arguments = ["local", "invoke", "--code", code.path, "--handler", "app.handler", "--runtime", "python3.11",
                             "--event", eventFile.path, "--timeout", "60", "--env", "MARK=\(marker)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)      // a loaded CI machine may take a while to cold-start
        while Fixture.processes(withMarker: marker).count < 2 && Date() < deadline { usleep(20_000) }
        XCTAssertGreaterThanOrEqual(Fixture.processes(withMarker: marker).count, 2, "runtime and its setsid() child are running")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 128 + SIGINT)
        XCTAssertEqual(Fixture.processes(withMarker: marker), [], "Ctrl-C leaves no sandbox process behind")
    }

    func testBadInputExitsWithAClearMessage() throws {
        let code = try Fixture.package([("python/noop.py", "noop.py", 0o644)])
        let run = try kitsune(["local", "invoke", "--code", code.path, "--handler", "noop.handler", "--runtime", "ruby2.5"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("runtime 'ruby2.5' is not supported; supported runtimes:"), run.stderr)
        XCTAssertEqual(run.stdout, "")
        let both = try kitsune(["local", "invoke", "--code", code.path, "--handler", "h", "--runtime", "python3.11",
                                "--event", "a.json", "--events", "b.jsonl"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("give either --event or --events"), both.stderr)
    }
}

/// Minimal REPORT reading for the CLI test (independent of the library's parser).
private struct InvocationReportLine {
    var hasInit: Bool
    var memorySize: String

    static func parse(_ line: String) -> InvocationReportLine? {
        guard line.hasPrefix("REPORT RequestId: ") else { return nil }
        let fields = line.components(separatedBy: "\t")
        let memory = fields.first { $0.hasPrefix("Memory Size: ") }?.dropFirst("Memory Size: ".count)
        return InvocationReportLine(hasInit: fields.contains { $0.hasPrefix("Init Duration: ") }, memorySize: memory.map(String.init) ?? "")
    }
}

/// Data filled by a reader thread.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    var value: Data { lock.lock(); defer { lock.unlock() }; return data }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    func set(_ d: Data) { lock.lock(); data = d; finished = true; lock.unlock() }
}
