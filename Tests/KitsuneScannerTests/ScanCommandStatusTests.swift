import Foundation
import XCTest
import KitsuneFindings

/// `kitsune scan` through the built binary: a lone package.json's pin is matched and marked as declared;
/// a template whose only open questions are MANUAL passes every gate and lists them apart.
final class ScanCommandStatusTests: XCTestCase {
    private func fixture(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.resourceURL).appendingPathComponent("Fixtures/\(name)").path
    }

    func testLonePackageJSONPinIsReportedAndGatesCI() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.write(#"{"name": "fn", "dependencies": {"node-serialize": "0.0.4"}}"#, to: dir + "/fn/package.json")
        let run = try ScanTestSupport.kitsune(["scan", dir + "/fn", "--db", try fixture("osv-npm"), "--format", "json"])
        XCTAssertEqual(run.status, 1, "a critical advisory on the declared pin fails the default gate: \(run.stderr)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let packages = try XCTUnwrap(json["packages"] as? [[String: Any]])
        XCTAssertEqual(packages.map { "\($0["name"] ?? "")@\($0["version"] ?? "") \($0["source"] ?? "")" }, ["node-serialize@0.0.4 manifest"])
        let findings = try XCTUnwrap(json["findings"] as? [[String: Any]])
        let vuln = try XCTUnwrap(findings.first { $0["rule_id"] as? String == "GHSA-q4v7-4rhw-9hqm" })
        XCTAssertEqual(vuln["status"] as? String, "FAIL")
        XCTAssertEqual((vuln["properties"] as? [String: String])?["package_source"], "manifest")
    }

    func testManualOnlyTemplatePassesEveryGateAndIsListedApart() throws {
        let template = try fixture("manual-only-template.json")
        for threshold in ["critical", "high", "medium", "low"] {
            let run = try ScanTestSupport.kitsune(["scan", template, "--fail-on", threshold])
            XCTAssertEqual(run.status, 0, "--fail-on \(threshold): MANUAL is not a failure\n\(run.stdout)\(run.stderr)")
        }
        let table = try ScanTestSupport.kitsune(["scan", template]).stdout
        XCTAssertTrue(table.contains("No failures."), table)
        XCTAssertTrue(table.contains("COULD NOT EVALUATE (MANUAL)"), table)
        XCTAssertTrue(table.contains("AWSNoSuchManagedPolicyForKitsuneTests"), table)
        for severity in ["CRITICAL (", "HIGH (", "MEDIUM (", "LOW (", "INFO ("] {
            XCTAssertFalse(table.contains(severity), "\(severity) section for a MANUAL result:\n\(table)")
        }
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try ScanTestSupport.kitsune(["scan", template, "--format", "json"]).stdout.utf8)) as? [String: Any])
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        XCTAssertEqual((summary["by_severity"] as? [String: Int])?.values.reduce(0, +), 0)
        XCTAssertGreaterThan((summary["by_status"] as? [String: Int])?["MANUAL"] ?? 0, 0)
        let sarif = try ScanTestSupport.kitsune(["scan", template, "--format", "sarif"]).stdout
        XCTAssertFalse(sarif.contains("\"level\" : \"error\"") || sarif.contains("\"level\": \"error\""), "no SARIF error for MANUAL")
        let ocsf = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try ScanTestSupport.kitsune(["scan", template, "--format", "ocsf"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertFalse(ocsf.isEmpty)
        XCTAssertTrue(ocsf.allSatisfy { $0["status_id"] as? Int == 0 && $0["status"] as? String == "Unknown" })
    }
}
