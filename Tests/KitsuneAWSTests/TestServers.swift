import Foundation
import XCTest
@testable import KitsuneAWS

/// A helper process (moto, the shim) that prints "READY <port>" and lives until its stdin closes,
/// so it dies with the test process even when the tests crash.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    private let stdin: Pipe

    init(script: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        guard let url = Bundle.module.url(forResource: script, withExtension: "py", subdirectory: "Fixtures/servers") else {
            throw TestFailure("fixture Fixtures/servers/\(script).py missing from the test bundle")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", url.path] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        do { try process.run() } catch {
            throw TestFailure("cannot start python3 (CI must install python3 and pip 'moto[server]'): \(error)")
        }
        var line: [UInt8] = []
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            guard let first = byte.first else { break }
            if first == UInt8(ascii: "\n") { break }
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw TestFailure("\(script).py did not start: '\(text)' (CI must install pip 'moto[server]')")
        }
        self.process = process
        self.port = port
        self.stdin = stdin
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { try? stdin.fileHandleForWriting.close() }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The moto servers shared by all tests of this target (started once, on first use).
enum TestServers {
    /// Plain moto (no authentication).
    static let moto: Result<ServerProcess, TestFailure> = start { try ServerProcess(script: "moto_launcher") }
    /// moto enforcing IAM authentication and signature checks after the first 3 calls.
    static let motoWithAuth: Result<ServerProcess, TestFailure> = start {
        try ServerProcess(script: "moto_launcher", environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"])
    }

    private static func start(_ body: () throws -> ServerProcess) -> Result<ServerProcess, TestFailure> {
        do { return .success(try body()) } catch let error as TestFailure { return .failure(error) } catch {
            return .failure(TestFailure("\(error)"))
        }
    }

    /// Shared moto, reset to an empty account.
    static func freshMoto() throws -> ServerProcess {
        let server = try moto.get()
        try reset(server)
        return server
    }

    static func reset(_ server: ServerProcess) throws {
        var request = URLRequest(url: URL(string: server.url + "/moto-api/reset")!)
        request.httpMethod = "POST"
        _ = try blockingFetch(request)
    }

    /// Starts an `aws_shim.py` with `config` (stopped by the caller).
    static func shim(_ config: [String: Any]) throws -> ServerProcess {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-shim-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: config).write(to: file)
        // The shim reads its configuration before it listens: the file can go once it is up.
        defer { try? FileManager.default.removeItem(at: file) }
        return try ServerProcess(script: "aws_shim", arguments: [file.path])
    }

    static func shimStats(_ shim: ServerProcess) throws -> [String: Int] {
        let data = try blockingFetch(URLRequest(url: URL(string: shim.url + "/_shim/stats")!))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Int]) ?? [:]
    }

    static func blockingFetch(_ request: URLRequest) throws -> Data {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResultBox()
        URLSession(configuration: .ephemeral).dataTask(with: request) { data, _, error in
            box.set(error.map { .failure($0) } ?? .success(data ?? Data()))
            semaphore.signal()
        }.resume()
        semaphore.wait()
        return try box.get()
    }

    final class ResultBox: @unchecked Sendable {
        private var value: Result<Data, Error> = .success(Data())
        private let lock = NSLock()
        func set(_ new: Result<Data, Error>) { lock.lock(); value = new; lock.unlock() }
        func get() throws -> Data { lock.lock(); defer { lock.unlock() }; return try value.get() }
    }

    /// Fast retries for tests (no real waiting beyond a few milliseconds).
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: 0.005, maxDelay: 0.02)

    /// A client for `server` with fixed test credentials.
    static func client(_ server: ServerProcess, region: String = "us-east-1", retry: RetryPolicy = fastRetry,
                       credentials: AWSCredentials = AWSCredentials(accessKeyID: "AKIAKITSUNETEST00001",
                                                                     secretAccessKey: "kitsune-test-secret")) -> AWSClient {
        AWSClient(region: region, credentials: StaticCredentialsProvider(credentials),
                  endpoints: EndpointResolver(globalOverride: server.url), retry: retry)
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Builds zip archives in tests (stored entries, no compression).
enum TestZip {
    static func make(_ files: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
        for (name, text) in files {
            let data = Array(text.utf8)
            let nameBytes = Array(name.utf8)
            let crc = crc32(data)
            let offset = UInt32(out.count)
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(UInt32(data.count))
                + le32(UInt32(data.count)) + le16(nameBytes.count) + le16(0)
            out += le32(0x04034b50) + common + nameBytes + data
            central += le32(0x02014b50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + nameBytes
        }
        let centralOffset = UInt32(out.count)
        out += central
        out += le32(0x06054b50) + le16(0) + le16(0) + le16(files.count) + le16(files.count) + le32(UInt32(central.count))
            + le32(centralOffset) + le16(0)
        return out
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// Lambda fixtures in moto.
enum LambdaFixture {
    static let trustPolicy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
    static let handlerZip = TestZip.make([("index.py", "def handler(event, context):\n    return {'ok': True}\n")])

    /// Creates the execution role and returns its ARN.
    static func role(_ client: AWSClient, name: String = "kitsune-test-exec") async throws -> String {
        try await client.iam.createRole(name, assumeRolePolicy: trustPolicy).arn
    }
}
