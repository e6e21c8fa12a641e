import Foundation
import XCTest
import KitsuneFindings

/// MANUAL (could not evaluate), ERROR and PASS results are never rendered as failures of a severity, in
/// any format, and never fail the CI gate.
final class ReportStatusTests: XCTestCase {
    static func mixedReport() -> ScanReport {
        func finding(_ id: String, _ rule: String, _ status: CheckStatus, _ severity: Severity, _ message: String) -> Finding {
            Finding(id: id, ruleID: rule, kind: .permission, status: status, severity: severity, title: "Check \(rule)",
                    message: message, location: Location(path: "template.yaml", line: 3), resource: "Role\(id)")
        }
        let t = Date(timeIntervalSince1970: 1_700_000_000)
        return ScanReport(target: "template.yaml", startedAt: t, finishedAt: t, findings: [
            finding("f1", "CKV_AWS_62", .fail, .critical, "Role f1 is an administrator."),
            finding("m1", "CKV_AWS_110", .manual, .critical, "Could not evaluate role m1: managed policy X: document not available. Verify manually."),
            finding("e1", "CKV_AWS_108", .error, .high, "Could not evaluate role e1: malformed policy (p): Statement[0]: Effect is missing"),
            finding("p1", "CKV_AWS_62", .pass, .critical, "Role p1 has no administrator-equivalent grant."),
        ])
    }

    private func object(_ format: ReportFormat) throws -> Any {
        try JSONSerialization.jsonObject(with: try format.render(Self.mixedReport()))
    }

    func testTableGivesManualItsOwnSection() throws {
        let table = String(decoding: try ReportFormat.table.render(Self.mixedReport()), as: UTF8.self)
        let critical = try XCTUnwrap(table.range(of: "\nCRITICAL (1)\n"), table)
        let manual = try XCTUnwrap(table.range(of: "\nCOULD NOT EVALUATE (MANUAL) (1)\n"), table)
        let error = try XCTUnwrap(table.range(of: "\nMALFORMED INPUT, NOT EVALUATED (ERROR) (1)\n"), table)
        let passed = try XCTUnwrap(table.range(of: "\nPASSED (1)\n"), table)
        XCTAssertTrue(critical.upperBound < manual.lowerBound && manual.upperBound < error.lowerBound && error.upperBound < passed.lowerBound)
        let manualText = try XCTUnwrap(table.range(of: "Could not evaluate role m1"))
        XCTAssertTrue(manualText.lowerBound > manual.upperBound && manualText.lowerBound < error.lowerBound, table)
        XCTAssertFalse(table.contains("HIGH ("), "the ERROR of a high check is not a high failure")
        XCTAssertTrue(table.contains("Summary: 1 failures (1 critical, 0 high, 0 medium, 0 low, 0 info), 1 could not be evaluated (MANUAL), 1 ERROR, 1 PASS"), table)
    }

    func testJSONCountsOnlyFailuresBySeverity() throws {
        let json = try XCTUnwrap(try object(.json) as? [String: Any])
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        XCTAssertEqual(summary["findings"] as? Int, 4)
        XCTAssertEqual(summary["failures"] as? Int, 1)
        XCTAssertEqual(summary["by_severity"] as? [String: Int], ["critical": 1, "high": 0, "medium": 0, "low": 0, "info": 0])
        XCTAssertEqual(summary["by_status"] as? [String: Int], ["FAIL": 1, "MANUAL": 1, "ERROR": 1, "PASS": 1])
        let statuses = (json["findings"] as? [[String: Any]])?.compactMap { $0["status"] as? String }
        XCTAssertEqual(statuses, ["FAIL", "MANUAL", "ERROR", "PASS"])
    }

    func testSARIFLevelsAndRuleSeverities() throws {
        let sarif = try XCTUnwrap(try object(.sarif) as? [String: Any])
        let run = try XCTUnwrap((sarif["runs"] as? [[String: Any]])?.first)
        let results = try XCTUnwrap(run["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["level"] as? String }, ["error", "note", "note", "none"])
        XCTAssertEqual(results.map { ($0["properties"] as? [String: Any])?["status"] as? String }, ["FAIL", "MANUAL", "ERROR", "PASS"])
        XCTAssertEqual(results[3]["kind"] as? String, "pass")
        XCTAssertNil(results[1]["kind"], "MANUAL keeps SARIF's default kind (fail) with level note, as the spec allows")
        let rules = try XCTUnwrap((run["tool"] as? [String: Any]).flatMap { ($0["driver"] as? [String: Any])?["rules"] as? [[String: Any]] })
        func securitySeverity(_ id: String) -> String? {
            (rules.first { $0["id"] as? String == id }?["properties"] as? [String: Any])?["security-severity"] as? String
        }
        XCTAssertEqual(securitySeverity("CKV_AWS_62"), "9.5", "ranked by its FAIL, not lowered by the PASS")
        XCTAssertEqual(securitySeverity("CKV_AWS_110"), "0.0", "a rule with only MANUAL results has no severity")
        XCTAssertEqual(securitySeverity("CKV_AWS_108"), "0.0")
    }

    func testOCSFStatusUnknownForManual() throws {
        let events = try XCTUnwrap(try object(.ocsf) as? [[String: Any]])
        XCTAssertEqual(events.map { $0["status_id"] as? Int }, [1, 0, 0, 4])
        XCTAssertEqual(events.map { $0["status"] as? String }, ["New", "Unknown", "Unknown", "Resolved"])
        XCTAssertEqual(events.map { $0["severity_id"] as? Int }, [5, 1, 1, 5])
        XCTAssertEqual((events[1]["unmapped"] as? [String: String])?["check_status"], "MANUAL")
        XCTAssertEqual((events[1]["unmapped"] as? [String: String])?["check_severity"], "critical")
    }

    func testGateCountsOnlyFailures() {
        let findings = Self.mixedReport().findings
        XCTAssertTrue(FailThreshold.critical.isExceeded(by: findings))
        let notFailures = findings.filter { $0.status != .fail }
        for threshold in FailThreshold.allCases {
            XCTAssertFalse(threshold.isExceeded(by: notFailures), "\(threshold): MANUAL/ERROR/PASS never fail the gate")
        }
    }
}
