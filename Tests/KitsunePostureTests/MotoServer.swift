import Foundation
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real moto server (`python3 -m moto.server`) on 127.0.0.1 and a free port, for the lifetime of a test.
/// Fails with a clear message when moto is not installed (CI installs `moto[server]`).
final class MotoServer {
    let port: Int
    let process: Process
    var endpoint: String { "http://127.0.0.1:\(port)" }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// `environment` is added to the server's environment (e.g. `INITIAL_NO_AUTH_ACTION_COUNT` to enforce IAM).
    init(environment extra: [String: String] = [:]) throws {
        let check = try MotoServer.python(["-c", "import moto, boto3; print(moto.__version__)"])
        guard check.status == 0 else {
            throw Unavailable(description: "moto is not installed (pip install 'moto[server]' boto3): \(check.output)")
        }
        let free = try MotoServer.python(["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
        guard let port = Int(free.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Unavailable(description: "could not find a free port: \(free.output)")
        }
        self.port = port
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"   // AWS managed policies (AdministratorAccess, …)
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if MotoServer.isUp(port: port) { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        MotoServer.stop(process)
        throw Unavailable(description: "moto server did not start on port \(port) within 30 s")
    }

    deinit {
        MotoServer.stop(process)
    }

    /// SIGTERM, then SIGKILL after 5 s; waits by polling (Process.waitUntilExit can block forever when
    /// called from a Swift concurrency thread on Linux).
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Runs a Python script (boto3 against this server) that seeds fixtures; throws with its output on failure.
    @discardableResult
    func seed(_ script: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString).py").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try MotoServer.python([path, endpoint])
        guard result.status == 0 else { throw Unavailable(description: "seeding moto failed: \(result.output)") }
        return result.output
    }

    static func isUp(port: Int) -> Bool {
        let result = try? python(["-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:\(port)/moto-api/', timeout=1)"])
        return result?.status == 0
    }

    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = "testing"
        environment["AWS_SECRET_ACCESS_KEY"] = "testing"
        environment["AWS_DEFAULT_REGION"] = "us-east-1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { Thread.sleep(forTimeInterval: 0.01) }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
