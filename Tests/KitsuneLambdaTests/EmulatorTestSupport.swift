import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import KitsuneLambda

/// Builds function packages from the fixtures into fresh temporary directories and zips.
enum Fixture {
    static var root: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    }

    /// Where this test process keeps its packages (removed after each test class).
    static var scratchRoot: URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-lambda-tests-\(getpid())")
    }

    /// A new empty temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = scratchRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A directory holding `files` (fixture path → path in the package, file mode).
    static func package(_ files: [(fixture: String, path: String, mode: Int)]) throws -> URL {
        let dir = try temporaryDirectory()
        for file in files {
            let dest = dir.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: root.appendingPathComponent(file.fixture), to: dest)
            try FileManager.default.setAttributes([.posixPermissions: file.mode], ofItemAtPath: dest.path)
        }
        return dir
    }

    /// Zips the contents of `dir` with Info-ZIP (modes and symlinks kept).
    static func zip(_ dir: URL) throws -> URL {
        let out = try temporaryDirectory().appendingPathComponent("package.zip")
        try run(["/usr/bin/zip", "-q", "-r", "-y", out.path, "."], in: dir, tool: "zip (apt-get install zip)")
        return out
    }

    /// Runs a tool and fails with a clear message when it is missing or fails.
    @discardableResult
    static func run(_ argv: [String], in dir: URL? = nil, tool: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: argv[0]) else {
            throw TestToolMissing(message: "\(argv[0]) is missing: install \(tool)")
        }
        let (status, output) = try execute(argv, in: dir)
        guard status == 0 else {
            throw TestToolMissing(message: "\(argv.joined(separator: " ")) failed (\(status)): \(output)")
        }
        return output
    }

    /// Runs a program to its end: exit status and stdout+stderr. `environment` nil: this process's.
    static func execute(_ argv: [String], in dir: URL? = nil, environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let dir { process.currentDirectoryURL = dir }
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// awslambdaric must be installed for the system Python the emulator uses.
    static func requireAwslambdaric() throws {
        do {
            try run(["/usr/bin/python3.11", "-c", "import awslambdaric"], tool: "python3.11")
        } catch {
            throw TestToolMissing(message: "awslambdaric is not importable by /usr/bin/python3.11: run `apt-get install python3-pip && /usr/bin/python3 -m pip install --break-system-packages awslambdaric` (\(error))")
        }
    }

    /// Pids of live processes whose environment contains `marker`.
    static func processes(withMarker marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), !stat.contains(") Z ") else { return nil }
            return env.range(of: Data(marker.utf8)) != nil ? pid : nil
        }
    }
}

/// Base class: removes the packages a test class created.
class LambdaTestCase: XCTestCase {
    override class func tearDown() {
        try? FileManager.default.removeItem(at: Fixture.scratchRoot)
        super.tearDown()
    }
}

struct TestToolMissing: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension InvocationResult {
    /// The payload as a JSON object (fails the test otherwise).
    func json(file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: payload, options: [.fragmentsAllowed])
        guard let dict = object as? [String: Any] else {
            XCTFail("payload is not a JSON object: \(payloadText)", file: file, line: line)
            return [:]
        }
        return dict
    }
}

func event(_ object: [String: Any]) -> InvocationRequest {
    InvocationRequest(payload: try! JSONSerialization.data(withJSONObject: object))
}
