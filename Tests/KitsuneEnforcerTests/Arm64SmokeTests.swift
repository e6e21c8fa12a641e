import Foundation
import XCTest

/// The aarch64 cross build (scripts/build-arm64 → .build/aarch64/) smoke-run under qemu-user
/// (`qemu-aarch64-static`). qemu-user translates syscalls but is not a kernel: seccomp and Landlock
/// are proven under a real aarch64 kernel by scripts/test-arm64. Skipped when the cross toolchain is
/// not installed (a failure under scripts/test, whose setup installs it); fails when the build is missing.
final class Arm64SmokeTests: XCTestCase {
    static let qemu = "/usr/bin/qemu-aarch64-static"

    func binary(_ name: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: Self.qemu),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/aarch64-linux-gnu-gcc") else {
            throw toolMissing("no aarch64 cross toolchain or qemu-user (scripts/setup installs gcc-aarch64-linux-gnu, qemu-user-static)")
        }
        var dirs: [URL] = []
        if let d = ProcessInfo.processInfo.environment["KITSUNE_ARM64_DIR"] { dirs.append(URL(fileURLWithPath: d)) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 { dirs.append(dir.appendingPathComponent("aarch64")); dir = dir.deletingLastPathComponent() }
        for d in dirs where FileManager.default.isExecutableFile(atPath: d.appendingPathComponent(name).path) {
            return d.appendingPathComponent(name).path
        }
        XCTFail("\(name) for aarch64 not built: run scripts/build-arm64 (scripts/test does)")
        throw XCTSkip("not built")
    }

    func qemu(_ argv: [String]) throws -> EnforcerFixture.Output {
        try EnforcerFixture.run([Self.qemu] + argv, timeout: 60)
    }

    func testStaticAarch64ELF() throws {
        for name in ["kitsune-enforcer", "kitsune-ship"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: try binary(name)))
            let bytes = [UInt8](data.prefix(64))
            XCTAssertEqual(Array(bytes[0...5]), [0x7F, 0x45, 0x4C, 0x46, 2, 1], "\(name): 64-bit little-endian ELF")
            XCTAssertEqual(UInt16(bytes[18]) | UInt16(bytes[19]) << 8, 183, "\(name): EM_AARCH64")
            XCTAssertFalse(data.range(of: Data("/lib/ld-linux-aarch64.so.1".utf8)) != nil, "\(name): static, no program interpreter")
        }
    }

    func testEnforcerVersionProbeAndEmbeddedPolicy() throws {
        let enforcer = try binary("kitsune-enforcer")
        let version = try qemu([enforcer, "--version"])
        XCTAssertEqual(version.status, 0, version.stderr)
        XCTAssertTrue(version.stdout.hasPrefix("kitsune-enforcer "), version.stdout)

        let probe = try qemu([enforcer, "--probe"])
        XCTAssertEqual(probe.status, 0, probe.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(json?["mechanisms"] as? [String: Any], probe.stdout)
        XCTAssertNotNil(json?["controls"] as? [String: Any], probe.stdout)

        // --check prints the compiled policy: the default policy embedded in the aarch64 binary.
        let check = try qemu([enforcer, "--check"])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("xmrig"), "default blocklist embedded: \(check.stdout.prefix(300))")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-arm64-smoke-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("policy.yaml")
        try "version: 1\nmode: strict\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try qemu([enforcer, "--policy", bad.path, "--check"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("policy.yaml:2"), refused.stderr)
        let usage = try qemu([enforcer, "--mode", "strict", "--", "/bin/true"])
        XCTAssertEqual(usage.status, 2, usage.stderr)
    }

    /// kitsune-ship links OpenSSL for arm64: a real TLS delivery to the loopback collector of ShipTests
    /// (certificate verified against the test CA), and a usage error exits 2.
    func testShipDeliversOverTLS() throws {
        let ship = try binary("kitsune-ship")
        let usage = try qemu([ship])
        XCTAssertEqual(usage.status, 2, usage.stderr)
        XCTAssertTrue(usage.stderr.contains("usage: kitsune-ship"), usage.stderr)
        let pki = try ShipTests.pki.get()
        let collector = try ShipTests.Collector(mode: "202")
        defer { collector.stop() }
        let body = #"[{"action":"blocked","reason":"drift","arch":"aarch64"}]"#
        let r = try EnforcerFixture.run([Self.qemu, ship, "--host", "localhost", "--ip", "127.0.0.1", "--port", "\(collector.port)",
                                         "--path", "/v1/events", "--timeout-ms", "20000", "--ca-file", pki.ca],
                                        environment: ["KITSUNE_EVENTS_TOKEN": "kt_arm64"], stdin: body, timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let posts = try collector.posts()
        XCTAssertEqual(posts.first?["body"] as? String, body)
        XCTAssertEqual(posts.first?["authorization"] as? String, "Bearer kt_arm64")
    }
}
