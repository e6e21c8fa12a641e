import Foundation
import KitsuneAWS
@testable import KitsuneServer

/// moto's server (Lambda, IAM, STS, …) on a free loopback port for one test, started by the test and
/// stopped with it: it serves until its stdin closes, so it dies with the test process.
final class Moto: @unchecked Sendable {
    let process: Process
    let port: Int
    private let stdin = Pipe()
    var url: String { "http://127.0.0.1:\(port)" }

    static let launcher = """
        import socket, sys, time, urllib.request
        from moto.server import ThreadedMotoServer
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        for _ in range(400):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2); break
            except Exception:
                time.sleep(0.05)
        print(f"READY {port}", flush=True)
        try:
            sys.stdin.read()
        finally:
            server.stop()
        """

    init() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.launcher]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line: [UInt8] = []
        while let byte = stdout.fileHandleForReading.readData(ofLength: 1).first, byte != 10 { line.append(byte) }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw TestFailure("moto did not start ('\(text)'): scripts/setup installs pip 'moto[server]'")
        }
        self.port = port
    }

    deinit { try? stdin.fileHandleForWriting.close() }

    /// A client of this moto in `region` with test credentials, counting its calls into `calls`.
    func client(region: String = "eu-west-1", calls: CallCounter? = nil) -> AWSClient {
        let transport: any HTTPTransport = calls.map { CountingTransport(inner: URLSessionTransport(), counter: $0) } ?? URLSessionTransport()
        return AWSClient(region: region, credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKIAKITSUNETEST00001", secretAccessKey: "test")),
                         endpoints: EndpointResolver(globalOverride: url), transport: transport,
                         retry: RetryPolicy(maxAttempts: 4, baseDelay: 0.005, maxDelay: 0.02))
    }

    /// The reconciler's way into this moto (its own account, 123456789012).
    func connector(calls: CallCounter = CallCounter()) -> STSAccountConnector {
        STSAccountConnector(calls: calls) { [self] region in client(region: region, calls: calls) }
    }
}
