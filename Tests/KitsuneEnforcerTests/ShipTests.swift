import Foundation
import KitsunePolicyCore
import XCTest

/// `kitsune-ship`, the sidecar's HTTPS helper, against a real TLS collector on loopback: a throwaway CA
/// and a `localhost` certificate (SANs DNS:localhost, IP:127.0.0.1) made with the openssl CLI, and a
/// Python `http.server` + `ssl` collector (Fixtures/https_collector.py).
final class ShipTests: XCTestCase {
    /// The throwaway PKI, made once per test run.
    struct PKI {
        let dir: URL
        let ca: String          // signed the server certificate
        let otherCA: String     // did not
        let cert: String
        let key: String
    }

    static let pki: Result<PKI, Error> = Result { try makePKI() }

    var ship: String { get throws { try EnforcerFixture.builtProduct("kitsune-ship") } }

    static func makePKI() throws -> PKI {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kitsune-ship-tests-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        FixtureCleanup.removeAtEnd(dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func openssl(_ args: [String]) throws {
            let r = try EnforcerFixture.run(["/usr/bin/openssl"] + args, timeout: 60)
            guard r.status == 0 else { throw FixtureError("openssl \(args.joined(separator: " ")): \(r.stderr)") }
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for name in ["ca", "other-ca"] {
            try openssl(["req", "-x509", "-new"] + ec + ["-keyout", path("\(name).key"), "-out", path("\(name).pem"),
                         "-days", "2", "-subj", "/CN=Kitsune Test \(name)",
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        try openssl(["req", "-new"] + ec + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"])
        try """
        subjectAltName=DNS:localhost,IP:127.0.0.1
        basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature
        extendedKeyUsage=serverAuth

        """.write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                     "-CAcreateserial", "-days", "2", "-extfile", path("server.ext"), "-out", path("server.pem")])
        return PKI(dir: dir, ca: path("ca.pem"), otherCA: path("other-ca.pem"), cert: path("server.pem"), key: path("server.key"))
    }

    /// A running collector: its port and the file it records POSTs in.
    final class Collector {
        let process: Process
        let port: Int
        let log: URL

        init(mode: String) throws {
            let pki = try ShipTests.pki.get()
            log = pki.dir.appendingPathComponent("posts-\(UUID().uuidString).jsonl")
            (process, port) = try EnforcerFixture.startServer("https_collector.py", [pki.cert, pki.key, log.path, mode])
        }

        /// The POSTs received so far.
        func posts() throws -> [[String: Any]] {
            guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
            return try text.split(separator: "\n").map {
                try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }

        func stop() {
            process.terminate()
            _ = EnforcerFixture.reap(process, timeout: 5)
        }
    }

    let body = #"[{"action":"blocked","reason":"drift","path":"/tmp/x","detail":"caf\u00e9 \"quoted\""},{"action":"reported"}]"#
    let token = "kt_test_0123456789abcdef"

    /// Run kitsune-ship with the standard options for `port` plus `extra` (later options are not
    /// repeated: `--host`/`--ca-file` given in `extra` replace the defaults).
    func ship(port: Int, _ extra: [String] = [], timeoutMs: Int = 5000, environment: [String: String] = [:],
              stdin: String? = nil) throws -> EnforcerFixture.Output {
        let pki = try Self.pki.get()
        var options = ["--host": "localhost", "--ip": "127.0.0.1", "--port": "\(port)", "--path": "/v1/events?source=kitsune",
                       "--timeout-ms": "\(timeoutMs)", "--ca-file": pki.ca]
        var i = 0
        while i + 1 < extra.count { options[extra[i]] = extra[i + 1]; i += 2 }
        let args = [try ship] + options.sorted { $0.key < $1.key }.flatMap { $0.value.isEmpty ? [] : [$0.key, $0.value] }
        var env = ["KITSUNE_EVENTS_TOKEN": token]
        for (k, v) in environment { env[k] = v }
        return try EnforcerFixture.run(args, environment: env, stdin: stdin ?? body, timeout: 30)
    }

    /// The one line a failed delivery prints.
    func assertOneLine(_ r: EnforcerFixture.Output, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasSuffix("\n") && r.stderr.filter { $0 == "\n" }.count == 1, "not one line: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), "expected '\(text)' in '\(r.stderr)'", file: file, line: line)
        XCTAssertFalse(r.stderr.contains(token) || r.stdout.contains(token), "token printed", file: file, line: line)
    }

    func testDeliversTheExactBodyWithTheToken() throws {
        let c = try Collector(mode: "202")
        defer { c.stop() }
        let r = try ship(port: c.port)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.stdout, "")
        let posts = try c.posts()
        XCTAssertEqual(posts.count, 1)
        let post = try XCTUnwrap(posts.first)
        XCTAssertEqual(post["body"] as? String, body)
        XCTAssertEqual(post["authorization"] as? String, "Bearer \(token)")
        XCTAssertEqual(post["host"] as? String, "localhost:\(c.port)")
        XCTAssertEqual(post["path"] as? String, "/v1/events?source=kitsune")
        XCTAssertEqual(post["user_agent"] as? String, "kitsune-ship/" + String(decoding: Bytes(literal: kitsuneVersion), as: UTF8.self))
        XCTAssertEqual(post["content_type"] as? String, "application/json")
        XCTAssertEqual(post["connection"] as? String, "close")

        // The CA bundle from KITSUNE_EVENTS_CA_FILE; no token, no Authorization header.
        let viaEnv = try ship(port: c.port, ["--ca-file", ""], environment: ["KITSUNE_EVENTS_CA_FILE": try Self.pki.get().ca, "KITSUNE_EVENTS_TOKEN": ""])
        XCTAssertEqual(viaEnv.status, 0, viaEnv.stderr)
        // An IP literal as the host name is checked against the certificate's IP SAN (no SNI).
        let literal = try ship(port: c.port, ["--host", "127.0.0.1"])
        XCTAssertEqual(literal.status, 0, literal.stderr)
        let all = try c.posts()
        XCTAssertEqual(all.count, 3)
        XCTAssertNil(all[1]["authorization"] as? String)
        XCTAssertEqual(all[2]["host"] as? String, "127.0.0.1:\(c.port)")
        XCTAssertTrue(all.allSatisfy { $0["body"] as? String == body })
    }

    func testUnknownCAIsRefused() throws {
        let c = try Collector(mode: "200")
        defer { c.stop() }
        let r = try ship(port: c.port, ["--ca-file", try Self.pki.get().otherCA])
        assertOneLine(r, contains: "TLS: certificate verify failed: unable to get local issuer certificate")
        XCTAssertEqual(try c.posts().count, 0, "nothing may be sent to an unverified server")
        // The system bundle (the default) does not know the throwaway CA either.
        let system = try ship(port: c.port, ["--ca-file", ""], environment: ["KITSUNE_EVENTS_CA_FILE": ""])
        assertOneLine(system, contains: "TLS: certificate verify failed")
        let missing = try ship(port: c.port, ["--ca-file", "/nonexistent/ca.pem"])
        assertOneLine(missing, contains: "CA file /nonexistent/ca.pem: No such file or directory")
        XCTAssertEqual(try c.posts().count, 0)
    }

    func testHostNameMismatchIsRefused() throws {
        let c = try Collector(mode: "200")
        defer { c.stop() }
        assertOneLine(try ship(port: c.port, ["--host", "wrong.example"]), contains: "TLS: certificate verify failed: hostname mismatch")
        assertOneLine(try ship(port: c.port, ["--host", "127.0.0.2"]), contains: "TLS: certificate verify failed: IP address mismatch")
        XCTAssertEqual(try c.posts().count, 0)
    }

    /// A non-2xx answer: exit 3 with the answer's head and the first 200 bytes of its body on stdout
    /// (the sidecar decides from it: a final 4xx drops the batch, Retry-After delays the retry).
    func testANon2xxAnswerIsHandedBack() throws {
        let c = try Collector(mode: "500")
        defer { c.stop() }
        let r = try ship(port: c.port)
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertTrue(r.stdout.hasPrefix("HTTP/1.1 500 "), r.stdout)
        XCTAssertEqual(try c.posts().count, 1)

        let pki = try Self.pki.get()
        let scripted = try EventIdentityTests.ScriptedCollector(answers: "429:7:long", tls: (pki.cert, pki.key))
        defer { scripted.stop() }
        let port = scripted.port
        let limited = try ship(port: port, ["--batch", "0123456789abcdef0123456789abcdef-42"])
        XCTAssertEqual(limited.status, 3, limited.stderr)
        XCTAssertTrue(limited.stdout.hasPrefix("HTTP/1.1 429 ") && limited.stdout.contains("\r\nRetry-After: 7\r\n"), limited.stdout)
        XCTAssertTrue(limited.stdout.hasSuffix("\r\n\r\n" + String(repeating: "x", count: 200)), limited.stdout)
        let posted = try XCTUnwrap(try scripted.posts().first)
        XCTAssertEqual(posted["batch"] as? String, "0123456789abcdef0123456789abcdef-42")
        XCTAssertEqual(posted["body"] as? String, body)
        let bad = try ship(port: port, ["--batch", "not a batch"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--batch must be"), bad.stderr)
    }

    func testConnectionRefused() throws {
        let free = try EnforcerFixture.run(["/usr/bin/python3", "-c",
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        let port = try XCTUnwrap(Int(free.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        assertOneLine(try ship(port: port), contains: "connect: Connection refused")
    }

    /// A server that accepts and never answers: the whole run stays within --timeout-ms.
    func testSilentServerTimesOut() throws {
        for (mode, phase) in [("hang", "waiting for the answer"), ("silent", "TLS handshake")] {
            let c = try Collector(mode: mode)
            defer { c.stop() }
            let started = Date()
            let r = try ship(port: c.port, timeoutMs: 1500)
            let elapsed = Date().timeIntervalSince(started)
            assertOneLine(r, contains: "timed out after 1500 ms (\(phase))")
            XCTAssertGreaterThanOrEqual(elapsed, 1.4, mode)
            XCTAssertLessThan(elapsed, 2.5, mode)
            if mode == "hang" { XCTAssertEqual(try c.posts().first?["body"] as? String, body) }
        }
    }

    func testUsageErrorsExit2() throws {
        let cases: [([String], String)] = [
            (["--ip", ""], "missing --ip"),
            (["--ip", "127.0.0"], "--ip must be an IPv4 address"),
            (["--ip", "127.0.0.256"], "--ip must be an IPv4 address"),
            (["--ip", "localhost"], "--ip must be an IPv4 address"),
            (["--host", ""], "missing --host"),
            (["--host", "bad host"], "--host must be a DNS name"),
            (["--port", "0"], "--port must be 1..65535"),
            (["--path", "no-slash"], "--path must start with /"),
            (["--timeout-ms", "soon"], "--timeout-ms must be"),
            (["--frobnicate", "1"], "unknown option --frobnicate"),
        ]
        for (extra, message) in cases {
            let r = try ship(port: 443, extra)
            XCTAssertEqual(r.status, 2, "\(extra): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(extra): expected '\(message)' in '\(r.stderr)'")
            XCTAssertTrue(r.stderr.contains("usage: kitsune-ship --host HOST --ip A.B.C.D"), r.stderr)
        }
        let empty = try ship(port: 443, stdin: "")
        XCTAssertEqual(empty.status, 2, empty.stderr)
        XCTAssertTrue(empty.stderr.contains("no request body"), empty.stderr)

        // More than 16 MiB on stdin (from a file: a pipe writer would see EPIPE).
        let big = try Self.pki.get().dir.appendingPathComponent("big.json")
        try Data(repeating: 0x20, count: (16 << 20) + 1).write(to: big)
        let r = try EnforcerFixture.run(["/bin/sh", "-c", "exec \"$0\" \"$@\" < \"$BIG\"", try ship, "--host", "localhost",
                                         "--ip", "127.0.0.1", "--port", "9", "--path", "/", "--timeout-ms", "5000"],
                                        environment: ["BIG": big.path], timeout: 30)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("larger than 16 MiB"), r.stderr)
        try? FileManager.default.removeItem(at: big)
    }

    /// Fully static like the enforcer: no program interpreter, no dynamic section.
    func testShipIsFullyStatic() throws {
        try EnforcerFixture.assertFullyStatic(try ship)
    }
}
