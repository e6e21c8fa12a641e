import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings

/// Structure of every report format, checked field by field against what the specifications require.
final class ReportFormatTests: XCTestCase {
    static let secretValue = "glpat-AbCdEfGhIjKlMnOpQrSt"

    static func sampleReport() -> ScanReport {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let findings = [
            Finding(id: "aaaa000011112222", ruleID: "secret/gitlab-token", kind: .secret, severity: .high, title: "GitLab token",
                    message: "GitLab token (glpa****************St) in lib/a.jar!/conf/app properties.txt line 3.",
                    location: Location(path: "lib/a.jar!/conf/app properties.txt", line: 3, column: 5),
                    properties: ["masked": "glpa****************St"]),
            Finding(id: "bbbb000011112222", ruleID: "GHSA-xxxx-yyyy-zzzz", kind: .vulnerability, severity: .critical,
                    title: "Prototype pollution in lodash", message: "lodash 4.17.20 is affected.",
                    location: Location(path: "node_modules/lodash/package.json"), resource: "lodash@4.17.20",
                    references: ["https://osv.dev/vulnerability/GHSA-xxxx-yyyy-zzzz"],
                    properties: ["fixed_version": "4.17.21", "aliases": "CVE-2021-23337"]),
            Finding(id: "cccc000011112222", ruleID: "input/zip-slip", kind: .misconfiguration, severity: .medium,
                    title: "Path traversal entry", message: "../x", location: Location(path: "../x")),
            Finding(id: "dddd000011112222", ruleID: "input/zip-slip", kind: .misconfiguration, severity: .low,
                    title: "Path traversal entry", message: "../y", location: Location(path: "../y")),
        ]
        let packages = [DiscoveredPackage(ecosystem: "npm", name: "lodash", version: "4.17.20",
                                          locations: ["node_modules/lodash/package.json", "package-lock.json"], purl: "pkg:npm/lodash@4.17.20"),
                        DiscoveredPackage(ecosystem: "PyPI", name: "requests", version: "2.31.0",
                                          locations: ["requests-2.31.0.dist-info/METADATA"], purl: "pkg:pypi/requests@2.31.0")]
        let executables = [ExecutableRecord(path: "bootstrap", sha256: String(repeating: "ab", count: 32), size: 10, format: "elf",
                                            arch: "x86_64", linkage: "static", mode: "0755")]
        return ScanReport(target: "fn.zip", startedAt: start, finishedAt: start.addingTimeInterval(2), findings: findings,
                          packages: packages, executables: executables,
                          suppressed: [SuppressedFinding(finding: findings[3], reason: "accepted", expires: "2030-01-01")],
                          notes: ["a note"], statistics: ["files": 3])
    }

    private func json(_ format: ReportFormat) throws -> Any {
        try JSONSerialization.jsonObject(with: try format.render(Self.sampleReport()))
    }

    func testSARIFStructure() throws {
        let sarif = try XCTUnwrap(try json(.sarif) as? [String: Any])
        XCTAssertEqual(sarif["version"] as? String, "2.1.0")
        XCTAssertNotNil(sarif["$schema"] as? String)
        let runs = try XCTUnwrap(sarif["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 1)
        let driver = try XCTUnwrap((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        XCTAssertEqual(driver["name"] as? String, "kitsune")
        let rules = try XCTUnwrap(driver["rules"] as? [[String: Any]])
        let ids = rules.compactMap { $0["id"] as? String }
        XCTAssertEqual(ids, ["secret/gitlab-token", "GHSA-xxxx-yyyy-zzzz", "input/zip-slip"])  // unique, in order
        for rule in rules {
            let props = try XCTUnwrap(rule["properties"] as? [String: Any])
            let score = try XCTUnwrap(Double(try XCTUnwrap(props["security-severity"] as? String)))
            XCTAssertTrue((0...10).contains(score))
            XCTAssertNotNil((rule["shortDescription"] as? [String: Any])?["text"] as? String)
        }
        XCTAssertEqual((rules[2]["properties"] as? [String: Any])?["security-severity"] as? String, "5.5") // worst of the rule
        let results = try XCTUnwrap(runs[0]["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 4)
        for result in results {
            let ruleID = try XCTUnwrap(result["ruleId"] as? String)
            let index = try XCTUnwrap(result["ruleIndex"] as? Int)
            XCTAssertEqual(ids[index], ruleID)
            XCTAssertTrue(["error", "warning", "note", "none"].contains(try XCTUnwrap(result["level"] as? String)))
            XCTAssertNotNil((result["message"] as? [String: Any])?["text"] as? String)
        }
        XCTAssertEqual(results.map { $0["level"] as? String }, ["error", "error", "warning", "note"])
        let location = try XCTUnwrap((results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        XCTAssertEqual((location["artifactLocation"] as? [String: Any])?["uri"] as? String, "lib/a.jar!/conf/app%20properties.txt")
        XCTAssertEqual((location["region"] as? [String: Any])?["startLine"] as? Int, 3)
        XCTAssertEqual((results[0]["partialFingerprints"] as? [String: String])?["kitsuneFindingId/v1"], "aaaa000011112222")
    }

    func testCycloneDXStructure() throws {
        let bom = try XCTUnwrap(try json(.cyclonedx) as? [String: Any])
        XCTAssertEqual(bom["bomFormat"] as? String, "CycloneDX")
        XCTAssertEqual(bom["specVersion"] as? String, "1.5")
        XCTAssertEqual(bom["version"] as? Int, 1)
        let serial = try XCTUnwrap(bom["serialNumber"] as? String)
        XCTAssertNotNil(serial.range(of: "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", options: .regularExpression))
        let components = try XCTUnwrap(bom["components"] as? [[String: Any]])
        XCTAssertEqual(components.compactMap { $0["purl"] as? String }, ["pkg:npm/lodash@4.17.20", "pkg:pypi/requests@2.31.0"])
        XCTAssertTrue(components.allSatisfy { $0["type"] as? String == "library" && $0["bom-ref"] is String })
        let occurrences = (components[0]["evidence"] as? [String: Any])?["occurrences"] as? [[String: String]]
        XCTAssertEqual(occurrences?.compactMap { $0["location"] }, ["node_modules/lodash/package.json", "package-lock.json"])
        let vulnerabilities = try XCTUnwrap(bom["vulnerabilities"] as? [[String: Any]])
        XCTAssertEqual(vulnerabilities.first?["id"] as? String, "GHSA-xxxx-yyyy-zzzz")
        XCTAssertEqual((vulnerabilities.first?["affects"] as? [[String: String]])?.first?["ref"], "pkg:npm/lodash@4.17.20")
    }

    func testOCSFDetectionFindingStructure() throws {
        let events = try XCTUnwrap(try json(.ocsf) as? [[String: Any]])
        XCTAssertEqual(events.count, 4)
        for event in events {
            XCTAssertEqual(event["class_uid"] as? Int, 2004)
            XCTAssertEqual(event["category_uid"] as? Int, 2)
            XCTAssertEqual(event["activity_id"] as? Int, 1)
            XCTAssertEqual(event["type_uid"] as? Int, 200_401)
            XCTAssertTrue((1...5).contains(event["severity_id"] as? Int ?? 0))
            XCTAssertNotNil(event["time"] as? Int)
            let metadata = try XCTUnwrap(event["metadata"] as? [String: Any])
            XCTAssertTrue((metadata["version"] as? String ?? "").hasPrefix("1."))
            XCTAssertNotNil((metadata["product"] as? [String: Any])?["name"])
            let info = try XCTUnwrap(event["finding_info"] as? [String: Any])
            XCTAssertNotNil(info["uid"] as? String)
            XCTAssertNotNil(info["title"] as? String)
        }
        XCTAssertEqual(events.map { $0["severity_id"] as? Int }, [4, 5, 3, 2])
    }

    func testJSONReportSchemaAndTableGrouping() throws {
        let report = try XCTUnwrap(try json(.json) as? [String: Any])
        XCTAssertEqual(report["schema"] as? String, "kitsune.scan/v1")
        for key in ["tool", "target", "started_at", "finished_at", "summary", "findings", "suppressed", "packages", "executables", "notes", "statistics"] {
            XCTAssertNotNil(report[key], key)
        }
        let summary = try XCTUnwrap(report["summary"] as? [String: Any])
        XCTAssertEqual((summary["by_severity"] as? [String: Int])?["critical"], 1)
        let finding = try XCTUnwrap((report["findings"] as? [[String: Any]])?.first)
        for key in ["id", "rule_id", "kind", "status", "severity", "title", "message", "location", "properties", "references"] {
            XCTAssertNotNil(finding[key], key)
        }
        XCTAssertEqual(report["started_at"] as? String, "2023-11-14T22:13:20Z")

        let table = String(decoding: try ReportFormat.table.render(Self.sampleReport()), as: UTF8.self)
        let critical = try XCTUnwrap(table.range(of: "CRITICAL (1)"))
        let high = try XCTUnwrap(table.range(of: "HIGH (1)"))
        let medium = try XCTUnwrap(table.range(of: "MEDIUM (1)"))
        XCTAssertTrue(critical.lowerBound < high.lowerBound && high.lowerBound < medium.lowerBound)
        XCTAssertTrue(table.contains("fixed in 4.17.21"))
        XCTAssertTrue(table.contains("SUPPRESSED (1)"))
    }

    /// A real scan's secrets appear masked, never in clear, in every format.
    func testNoFormatContainsTheSecret() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        var f = ScanTestSupport.FakeValues(seed: 55)
        let secrets = ["ghp_" + f.string(36), "sk_live_" + f.string(30), f.string(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")]
        try ScanTestSupport.write("a = '\(secrets[0])'\nb = '\(secrets[1])'\naws_access_key_id=AKIA\(f.string(16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))\naws_secret_access_key=\(secrets[2])\n", to: dir + "/p/app.py")
        let result = try ScanTestSupport.scanner().scan(path: dir + "/p")
        XCTAssertEqual(result.findings.count, 3)
        let report = ScanReport(target: dir, startedAt: result.startedAt, finishedAt: result.finishedAt, findings: result.findings)
        for format in ReportFormat.allCases {
            let text = String(decoding: try format.render(report), as: UTF8.self)
            for secret in secrets { XCTAssertFalse(text.contains(secret), "\(format) leaks a secret") }
            XCTAssertFalse(text.contains(String(secrets[2].prefix(20))), "\(format) leaks half a secret")
        }
    }
}
