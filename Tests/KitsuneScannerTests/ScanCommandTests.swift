import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings
import KitsunePolicy

/// `kitsune scan` end to end through the real built binary: exit codes, output files, ignores.
final class ScanCommandTests: XCTestCase {
    private var dir = ""
    private var package = ""

    override func setUpWithError() throws {
        dir = try ScanTestSupport.temporaryDirectory(self)
        package = dir + "/pkg"
        var f = ScanTestSupport.FakeValues(seed: 77)
        try ScanTestSupport.write("print('hello')\n", to: package + "/app.py")
        try ScanTestSupport.write("GITHUB=ghp_\(f.string(36))\n", to: package + "/config/.env")
        try ScanTestSupport.write("#!/bin/sh\nexec python3 app.py\n", to: package + "/bootstrap", mode: 0o755)
    }

    private func scan(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try ScanTestSupport.kitsune(["scan"] + arguments)
    }

    func testExitCodesFollowTheThreshold() throws {
        XCTAssertEqual(try scan([package]).status, 1)                       // default --fail-on high
        let quiet = try scan([package, "--fail-on", "critical"])
        XCTAssertEqual(quiet.status, 0)
        XCTAssertFalse(quiet.stderr.contains("scanning:"), "no progress output when stderr is not a terminal")
        XCTAssertEqual(try scan([package, "--fail-on", "never"]).status, 0)
        XCTAssertEqual(try scan([package, "--fail-on", "low"]).status, 1)
        try ScanTestSupport.write("nothing here\n", to: dir + "/clean/readme.txt")
        let clean = try scan([dir + "/clean", "--format", "json"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["schema"] as? String, "kitsune.scan/v1")
    }

    func testUsageAndInputErrorsExitTwoWithAClearMessage() throws {
        let badFormat = try scan([package, "--format", "xml"])
        XCTAssertEqual(badFormat.status, 2)
        XCTAssertTrue(badFormat.stderr.contains("--format"), badFormat.stderr)
        XCTAssertEqual(try scan([package, "--fail-on", "sometimes"]).status, 2)
        let missing = try scan([dir + "/missing.zip"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains(dir + "/missing.zip"), missing.stderr)
        try Data("PK\u{3}\u{4}truncated".utf8).write(to: URL(fileURLWithPath: dir + "/t.zip"))
        let truncated = try scan([dir + "/t.zip"])
        XCTAssertEqual(truncated.status, 2)
        XCTAssertTrue(truncated.stderr.contains("t.zip"), truncated.stderr)
        try ScanTestSupport.write("{\"Environment\": ", to: dir + "/function.json")
        let config = try scan([package, "--config", dir + "/function.json"])
        XCTAssertEqual(config.status, 2)
        XCTAssertTrue(config.stderr.contains("function.json"), config.stderr)
    }

    func testOutputAndManifestFilesAreWrittenWhole() throws {
        let out = dir + "/out/report.sarif"
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        let run = try scan([package, "--format", "sarif", "--output", out, "--manifest-out", dir + "/out/manifest.json", "--fail-on", "never"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "")
        let sarif = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        XCTAssertEqual(sarif?["version"] as? String, "2.1.0")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/out/manifest.json")))
        XCTAssertEqual(manifest.files.map(\.path), ["bootstrap"])
        XCTAssertEqual(manifest.files.first?.kind, .script)
        XCTAssertEqual(manifest.files.first?.mode, "0755")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted(), ["manifest.json", "report.sarif"])
        // An output path that cannot be written: exit 2, nothing left behind.
        let bad = try scan([package, "--output", dir + "/no/such/dir/r.json"])
        XCTAssertEqual(bad.status, 2)
    }

    func testIgnoreFileSuppressesAndExpiredEntriesSaySo() throws {
        let first = try scan([package, "--format", "json"])
        let findings = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])?["findings"] as? [[String: Any]])
        let id = try XCTUnwrap(findings.first?["id"] as? String)
        try ScanTestSupport.write("ignores:\n  - id: \"\(id)\"\n    reason: test account, revoked\n    expires: 2099-01-01\n", to: dir + "/ignore.yaml")
        let ignored = try scan([package, "--ignore", dir + "/ignore.yaml"])
        XCTAssertEqual(ignored.status, 0, ignored.stdout)
        XCTAssertTrue(ignored.stdout.contains("SUPPRESSED (1)"), ignored.stdout)
        try ScanTestSupport.write("- rule: secret/github-token\n  path: \"config/*\"\n  reason: old\n  expires: 2021-06-30\n", to: dir + "/expired.yaml")
        let expired = try scan([package, "--ignore", dir + "/expired.yaml"])
        XCTAssertEqual(expired.status, 1)
        XCTAssertTrue(expired.stdout.contains("expired on 2021-06-30"), expired.stdout)
        try ScanTestSupport.write("- rule: [\n", to: dir + "/broken.yaml")
        let broken = try scan([package, "--ignore", dir + "/broken.yaml"])
        XCTAssertEqual(broken.status, 2)
        XCTAssertTrue(broken.stderr.contains("broken.yaml"), broken.stderr)
    }
}
