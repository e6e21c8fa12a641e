import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings

/// The whole pipeline with the real catalogers and advisory database: one pass over a zip finds the
/// packages (also inside a nested jar), matches them, and the SBOM lists them with their locations.
final class ScanPipelineTests: XCTestCase {
    func testPackagesFromTheWalkReachTheCatalogersMatcherAndSBOM() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.writeZip([.init("META-INF/maven/org.example/util/pom.properties",
                                            "groupId=org.example\nartifactId=util\nversion=1.2.3\n")], to: dir + "/util.jar")
        let jar = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/util.jar")))
        try ScanTestSupport.writeZip([
            .init("index.js", "exports.handler = async () => ({});\n"),
            .init("node_modules/lodash/package.json", #"{"name": "lodash", "version": "4.17.20", "license": "MIT"}"#),
            .init("lib/util.jar", bytes: jar),
            .init("sub/package-lock.json", "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    oops\n}\n"),
            .init("zzz/config.env", "STRIPE=sk_live_\(String(repeating: "aB3dE5", count: 5))\n"),
        ], to: dir + "/fn.zip")
        // An OSV advisory written from the facts of GHSA-35jh-r3h4-6jhm (lodash command injection, fixed in 4.17.21).
        try ScanTestSupport.write("""
        {"id": "GHSA-35jh-r3h4-6jhm", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2021-23337"],
         "summary": "Command Injection in lodash",
         "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                       "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}],
         "database_specific": {"severity": "HIGH"}}
        """, to: dir + "/osv/GHSA-35jh-r3h4-6jhm.json")
        let database = try AdvisoryDatabase.open(paths: [dir + "/osv"])
        let scanner = try ScanTestSupport.scanner(catalogers: Catalogers.all, matcher: database)
        let result = try scanner.scan(path: dir + "/fn.zip")

        let lodash = try XCTUnwrap(result.packages.first { $0.name == "lodash" })
        XCTAssertEqual(lodash.version, "4.17.20")
        XCTAssertEqual(lodash.locations.first, "node_modules/lodash/package.json")
        let util = try XCTUnwrap(result.packages.first { $0.name.contains("util") })
        XCTAssertTrue(util.locations.first?.hasPrefix("lib/util.jar!/META-INF/maven/") ?? false, "\(util.locations)")

        // The malformed lockfile is reported with its path, and the files after it are still scanned.
        let malformed = try XCTUnwrap(result.findings.first { $0.kind == .inputError && ($0.location?.path ?? "").hasPrefix("sub/package-lock.json") })
        XCTAssertTrue(malformed.message.contains("sub/package-lock.json") || malformed.location?.line != nil, malformed.message)
        XCTAssertEqual(result.findings(rule: "secret/stripe-secret-key").first?.location?.path, "zzz/config.env")

        let vulnerability = try XCTUnwrap(result.findings.first { $0.kind == .vulnerability })
        XCTAssertEqual(vulnerability.resource, "lodash@4.17.20")
        XCTAssertTrue(vulnerability.ruleID.contains("GHSA-35jh-r3h4-6jhm") || vulnerability.ruleID.contains("CVE-2021-23337"))

        let report = ScanReport(target: "fn.zip", startedAt: result.startedAt, finishedAt: result.finishedAt,
                                findings: result.findings, packages: result.packages)
        let bom = try XCTUnwrap(try JSONSerialization.jsonObject(with: try ReportFormat.cyclonedx.render(report)) as? [String: Any])
        let purls = (bom["components"] as? [[String: Any]])?.compactMap { $0["purl"] as? String } ?? []
        XCTAssertTrue(purls.contains("pkg:npm/lodash@4.17.20"), "\(purls)")
        XCTAssertEqual((bom["vulnerabilities"] as? [[String: Any]])?.count, 1)
    }

    func testIndicatorStringsAreFoundAcrossChunkBoundaries() throws {
        var search = IndicatorSearch(try ForbiddenList.builtIn())
        let text = Array((String(repeating: "x", count: 1000) + "url = stratum+tcp://pool:3333\n").utf8)
        for start in stride(from: 0, to: text.count, by: 7) { search.feed(Array(text[start..<min(text.count, start + 7)])) }
        let list = try ForbiddenList.builtIn()
        XCTAssertEqual(search.found.map { list.strings[$0].string }, ["stratum+tcp://"])
    }
}
