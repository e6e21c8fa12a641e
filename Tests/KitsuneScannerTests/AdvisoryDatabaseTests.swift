import Foundation
import XCTest
import KitsuneFindings
@testable import KitsuneScanner

/// `kitsune db import` on the real PyPI snapshot, matching real advisories, fixtures for the other
/// ecosystems, alias dedupe, withdrawn entries, store round trip.
final class AdvisoryDatabaseTests: XCTestCase {
    func finding(_ fs: [Finding], _ rule: String) -> Finding? { fs.first { $0.ruleID == rule } }

    func testImportRealPyPISnapshotAndMatchKnownAdvisories() throws {
        let zip = try AdvisoryFixtures.pypiArchive()
        let dir = try AdvisoryFixtures.temporaryDirectory("pypi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t0 = Date()
        let result = try AdvisoryImport.load(paths: [zip])
        let files = try AdvisoryStore.write(result, to: dir)
        let importSeconds = Date().timeIntervalSince(t0)
        print("db import of real PyPI all.zip: \(result.advisories) advisories, \(result.withdrawn.count) withdrawn, "
              + "\(result.problems.count) problems in \(String(format: "%.2f", importSeconds)) s")
        XCTAssertGreaterThan(result.advisories, 2600)
        XCTAssertEqual(result.problems, [])
        XCTAssertTrue(result.withdrawn.contains("PYSEC-2023-73"))
        XCTAssertEqual(files.map { ($0 as NSString).lastPathComponent }, ["PyPI.kdb"])

        let t1 = Date()
        let db = try AdvisoryDatabase.open(paths: [dir])
        let packages = [
            AdvisoryFixtures.package("PyPI", "requests", "2.30.0", at: "requirements.txt"),
            AdvisoryFixtures.package("PyPI", "requests", "2.31.0", at: "other/requirements.txt"),
            AdvisoryFixtures.package("PyPI", "urllib3", "1.26.16"),
            AdvisoryFixtures.package("PyPI", "urllib3", "1.26.18"),
            AdvisoryFixtures.package("PyPI", "urllib3", "2.0.5"),
            AdvisoryFixtures.package("PyPI", "PyYAML", "5.3"),
            AdvisoryFixtures.package("PyPI", "pyyaml", "5.3.1"),
            AdvisoryFixtures.package("PyPI", "redis", "4.5.3"),
            AdvisoryFixtures.package("PyPI", "py", "1.11.0"),
            AdvisoryFixtures.package("PyPI", "Flask_AppBuilder", "4.3.1"),
        ]
        let findings = db.findings(for: packages)
        print("open + match \(packages.count) packages: \(String(format: "%.3f", Date().timeIntervalSince(t1))) s, \(findings.count) findings")
        func on(_ name: String, _ version: String) -> [Finding] {
            findings.filter { $0.properties["package"] == name && $0.properties["version"] == version }
        }

        // requests CVE-2023-32681 (PYSEC-2023-74): introduced 2.3.0, fixed 2.31.0.
        let req = try XCTUnwrap(finding(on("requests", "2.30.0"), "GHSA-j8r2-6x86-q33q"))
        XCTAssertEqual(req.kind, .vulnerability)
        XCTAssertEqual(req.properties["fixed_version"], "2.31.0")
        XCTAssertTrue(req.remediation?.contains("2.31.0") ?? false)
        XCTAssertEqual(req.properties["aliases"], "CVE-2023-32681, PYSEC-2023-74")
        XCTAssertEqual(req.location?.path, "requirements.txt")
        XCTAssertEqual(req.severity, .medium)
        XCTAssertTrue(req.properties["severity_source"]?.hasPrefix("unrated") ?? false, "PyPA records carry no CVSS for this one")
        XCTAssertEqual(req.title, "requests@2.30.0: Requests is a HTTP library.", "first sentence of details when no summary")
        XCTAssertNil(finding(on("requests", "2.31.0"), "GHSA-j8r2-6x86-q33q"))

        // urllib3 CVE-2023-43804: two introduced/fixed pairs listed out of order, CVSS 8.1.
        let u = try XCTUnwrap(finding(on("urllib3", "1.26.16"), "GHSA-v845-jxx5-vc9f"))
        XCTAssertEqual(u.severity, .high)
        XCTAssertEqual(u.properties["cvss_score"], "8.1")
        XCTAssertEqual(u.properties["fixed_version"], "1.26.17")
        XCTAssertNil(finding(on("urllib3", "1.26.18"), "GHSA-v845-jxx5-vc9f"))
        XCTAssertEqual(finding(on("urllib3", "2.0.5"), "GHSA-v845-jxx5-vc9f")?.properties["fixed_version"], "2.0.6")

        // PyYAML CVE-2020-1747: introduced 5.1, fixed 5.3.1; names normalized (PyYAML → pyyaml).
        XCTAssertEqual(finding(on("PyYAML", "5.3"), "GHSA-6757-jp84-gxfx")?.properties["fixed_version"], "5.3.1")
        XCTAssertNil(finding(on("pyyaml", "5.3.1"), "GHSA-6757-jp84-gxfx"))

        // Withdrawn PYSEC-2023-73 (redis) is ignored.
        XCTAssertFalse(findings.contains { $0.properties["advisories"]?.contains("PYSEC-2023-73") ?? false })
        // last_affected 1.11.0 is inclusive (PYSEC-2022-42969).
        XCTAssertTrue(on("py", "1.11.0").contains { $0.properties["advisories"]?.contains("PYSEC-2022-42969") ?? false })
        // PEP 503: Flask_AppBuilder is flask-appbuilder (CVE-2023-34110 fixed 4.3.2).
        XCTAssertNotNil(finding(on("Flask_AppBuilder", "4.3.1"), "GHSA-jhpr-j7cq-3jp3"))
        // Aliases never produce two findings for the same package.
        for f in findings {
            let same = findings.filter { $0.resource == f.resource && $0.location == f.location }
            let ids = same.flatMap { [$0.ruleID] + ($0.properties["aliases"]?.components(separatedBy: ", ") ?? []) }
            XCTAssertEqual(ids.count, Set(ids).count, "alias ids repeated across findings of \(f.resource ?? "")")
        }
    }

    func testFixturesForOtherEcosystems() throws {
        let db = try AdvisoryDatabase.open(paths: [try AdvisoryFixtures.osvDirectory()])
        let packages = [
            AdvisoryFixtures.package("npm", "lodash", "4.17.20", at: "node_modules/lodash/package.json"),
            AdvisoryFixtures.package("npm", "lodash", "4.17.21"),
            AdvisoryFixtures.package("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", at: "lib/app.jar!/META-INF/maven/x/pom.properties"),
            AdvisoryFixtures.package("Maven", "org.apache.logging.log4j:log4j-core", "2.12.1"),
            AdvisoryFixtures.package("Maven", "org.apache.logging.log4j:log4j-core", "2.0-beta8"),
            AdvisoryFixtures.package("Maven", "org.apache.logging.log4j:log4j-core", "2.0-beta9"),
            AdvisoryFixtures.package("Maven", "org.apache.logging.log4j:log4j-core", "2.3.1"),
            AdvisoryFixtures.package("Maven", "org.apache.logging.log4j:log4j-core", "2.15.0"),
            AdvisoryFixtures.package("Go", "golang.org/x/text", "v0.3.6", at: "bootstrap"),
            AdvisoryFixtures.package("Go", "golang.org/x/text", "v0.3.7"),
            AdvisoryFixtures.package("RubyGems", "rack", "2.2.3"),
            AdvisoryFixtures.package("RubyGems", "rack", "2.2.3.1"),
            AdvisoryFixtures.package("RubyGems", "rack", "2.1.4"),
            AdvisoryFixtures.package("crates.io", "smallvec", "1.6.0"),
            AdvisoryFixtures.package("crates.io", "smallvec", "1.6.1"),
            AdvisoryFixtures.package("crates.io", "smallvec", "0.6.2"),
        ]
        let findings = db.findings(for: packages)
        func at(_ name: String, _ version: String) -> [Finding] {
            findings.filter { $0.properties["package"] == name && $0.properties["version"] == version }
        }
        let lodash = try XCTUnwrap(at("lodash", "4.17.20").first)
        XCTAssertEqual(at("lodash", "4.17.20").count, 1, "the withdrawn lodash advisory is ignored")
        XCTAssertEqual(lodash.ruleID, "GHSA-35jh-r3h4-6jhm")
        XCTAssertEqual(lodash.severity, .high)
        XCTAssertEqual(lodash.properties["cvss_score"], "7.2")
        XCTAssertEqual(lodash.properties["fixed_version"], "4.17.21")
        XCTAssertEqual(lodash.location, Location(path: "node_modules/lodash/package.json"))
        XCTAssertEqual(lodash.resource, "lodash@4.17.20")
        XCTAssertTrue(at("lodash", "4.17.21").isEmpty)

        let log4j = "org.apache.logging.log4j:log4j-core"
        XCTAssertEqual(at(log4j, "2.14.1").first?.severity, .critical)
        XCTAssertEqual(at(log4j, "2.14.1").first?.properties["cvss_score"], "10.0")
        XCTAssertEqual(at(log4j, "2.14.1").first?.properties["fixed_version"], "2.15.0")
        XCTAssertEqual(at(log4j, "2.12.1").first?.properties["fixed_version"], "2.12.2")
        XCTAssertTrue(at(log4j, "2.0-beta8").isEmpty, "2.0-beta8 < 2.0-beta9 (introduced)")
        XCTAssertEqual(at(log4j, "2.0-beta9").count, 1)
        XCTAssertTrue(at(log4j, "2.3.1").isEmpty)
        XCTAssertTrue(at(log4j, "2.15.0").isEmpty)

        // GO-2021-0113 and GHSA-ppp9-7jff-5vj2 alias each other: one finding, GHSA preferred, CVSS from the GHSA record.
        let text = at("golang.org/x/text", "v0.3.6")
        XCTAssertEqual(text.count, 1)
        XCTAssertEqual(text.first?.ruleID, "GHSA-ppp9-7jff-5vj2")
        XCTAssertEqual(text.first?.properties["aliases"], "CVE-2021-38561, GO-2021-0113")
        XCTAssertEqual(text.first?.properties["advisories"], "GHSA-ppp9-7jff-5vj2, GO-2021-0113")
        XCTAssertEqual(text.first?.severity, .high)
        XCTAssertEqual(text.first?.properties["fixed_version"], "0.3.7")
        XCTAssertTrue(at("golang.org/x/text", "v0.3.7").isEmpty)

        XCTAssertEqual(at("rack", "2.2.3").first?.severity, .critical)
        XCTAssertEqual(at("rack", "2.2.3").first?.properties["severity_source"], "database_specific")
        XCTAssertEqual(at("rack", "2.2.3").first?.properties["fixed_version"], "2.2.3.1")
        XCTAssertTrue(at("rack", "2.2.3.1").isEmpty)
        XCTAssertEqual(at("rack", "2.1.4").first?.properties["fixed_version"], "2.1.4.1")

        XCTAssertEqual(at("smallvec", "1.6.0").first?.ruleID, "GHSA-43w2-9j62-hq99")
        XCTAssertEqual(at("smallvec", "1.6.0").first?.severity, .critical)
        XCTAssertTrue(at("smallvec", "1.6.1").isEmpty)
        XCTAssertTrue(at("smallvec", "0.6.2").isEmpty)

        // A version the ordering cannot read is said so, never reported clean.
        let odd = db.findings(for: [AdvisoryFixtures.package("npm", "lodash", "not.a.version")])
        XCTAssertEqual(odd.map(\.ruleID), ["advisory/unevaluated-version"])
        XCTAssertTrue(odd.first?.message.contains("GHSA-35jh-r3h4-6jhm") ?? false)

        // Stable ids: same input, same finding ids.
        XCTAssertEqual(db.findings(for: packages).map(\.id), findings.map(\.id))
    }

    func testBrokenAdvisoryIsReportedAndSkipped() throws {
        let result = try AdvisoryImport.load(paths: [try AdvisoryFixtures.osvDirectory()])
        XCTAssertEqual(result.problems.count, 1)
        XCTAssertTrue(result.problems.first?.contains("broken-event.json") ?? false)
        XCTAssertTrue(result.problems.first?.contains("exactly one of introduced") ?? false, result.problems.first ?? "")
        XCTAssertEqual(result.advisories, 6)
        XCTAssertEqual(result.withdrawn, ["GHSA-xxxx-withdrawn-test"])
    }

    func testStoreRoundTripMergeAndWithdrawal() throws {
        let dir = try AdvisoryFixtures.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try AdvisoryImport.load(paths: [try AdvisoryFixtures.osvDirectory()])
        let files = try AdvisoryStore.write(first, to: dir).map { ($0 as NSString).lastPathComponent }.sorted()
        XCTAssertEqual(files, ["Go.kdb", "Maven.kdb", "RubyGems.kdb", "crates.io.kdb", "npm.kdb"])
        let db = try AdvisoryDatabase.open(paths: [dir])
        XCTAssertEqual(try db.advisories(ecosystem: "npm", name: "lodash").map(\.id), ["GHSA-35jh-r3h4-6jhm"])
        XCTAssertEqual(try db.advisories(ecosystem: "crates.io", name: "SmallVec").map(\.id), ["RUSTSEC-2021-0003"])

        // A later import that withdraws the lodash advisory removes it; other packages stay.
        let src = try AdvisoryFixtures.temporaryDirectory("withdraw")
        defer { try? FileManager.default.removeItem(atPath: src) }
        try Data(#"{"id":"GHSA-35jh-r3h4-6jhm","modified":"2025-01-01T00:00:00Z","withdrawn":"2025-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lodash"}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: src + "/w.json"))
        try Data(#"{"id":"GHSA-new-one","modified":"2025-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"minimist"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.6"}]}]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: src + "/n.json"))
        try AdvisoryStore.write(try AdvisoryImport.load(paths: [src]), to: dir)
        let db2 = try AdvisoryDatabase.open(paths: [dir])
        XCTAssertEqual(try db2.advisories(ecosystem: "npm", name: "lodash").map(\.id), [])
        XCTAssertEqual(try db2.advisories(ecosystem: "npm", name: "minimist").map(\.id), ["GHSA-new-one"])
        XCTAssertEqual(try db2.advisories(ecosystem: "Maven", name: "org.apache.logging.log4j:log4j-core").count, 1)
    }

    func testBadDatabaseInputsGiveClearErrors() throws {
        XCTAssertThrowsError(try AdvisoryDatabase.open(paths: ["/nonexistent/kitsune-db"])) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/kitsune-db") && "\(e)".contains("no such file"), "\(e)")
        }
        let dir = try AdvisoryFixtures.temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A truncated copy of a real archive.
        let zip = try Data(contentsOf: URL(fileURLWithPath: try AdvisoryFixtures.pypiArchive()))
        try zip.prefix(zip.count / 2).write(to: URL(fileURLWithPath: dir + "/truncated.zip"))
        XCTAssertThrowsError(try AdvisoryImport.load(paths: [dir + "/truncated.zip"])) { e in
            XCTAssertTrue("\(e)".contains("truncated.zip") && "\(e)".contains("central directory"), "\(e)")
        }
        // A directory with nothing usable is an error, not an empty database.
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AdvisoryDatabase.open(paths: [dir + "/empty"])) { e in
            XCTAssertTrue("\(e)".contains("no OSV advisories"), "\(e)")
        }
        // A damaged entry in a database file becomes an input-error finding, never "clean".
        let good = try AdvisoryFixtures.temporaryDirectory("damaged")
        defer { try? FileManager.default.removeItem(atPath: good) }
        try AdvisoryStore.write(try AdvisoryImport.load(paths: [try AdvisoryFixtures.osvDirectory()]), to: good)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good + "/npm.kdb")))
        let body = try XCTUnwrap(bytes.firstIndex(of: 0x0A)) + 1
        for i in body..<min(bytes.count, body + 40) { bytes[i] = 0x21 }
        try Data(bytes).write(to: URL(fileURLWithPath: good + "/npm.kdb"))
        let damaged = try AdvisoryDatabase.open(paths: [good]).findings(for: [AdvisoryFixtures.package("npm", "lodash", "4.17.20")])
        XCTAssertEqual(damaged.map(\.ruleID), ["advisory/database-error"])
        XCTAssertTrue(damaged.first?.message.contains("npm.kdb") ?? false, damaged.first?.message ?? "")

        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: dir + "/npm.kdb"))
        XCTAssertThrowsError(try AdvisoryDatabase.open(paths: [dir + "/npm.kdb"])) { e in
            XCTAssertTrue("\(e)".contains("npm.kdb"), "\(e)")
        }
    }

    func testCorruptedArchivesNeverCrash() throws {
        // The first 64 KB and the central directory of the real archive, bytes flipped at random.
        let zip = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try AdvisoryFixtures.pypiArchive())))
        let limits = ScanLimits()
        let reader = try ZipArchive(source: MemorySource(bytes: zip), name: "all.zip", maxEntries: limits.maxEntries)
        XCTAssertEqual(reader.entries.count, 2661)
        let cd = zip.count - 300_000
        var rng = SystemRandomNumberGenerator()
        var readable = 0
        for round in 0..<300 {
            var b = zip
            for _ in 0..<4 {
                let at = round % 2 == 0 ? Int.random(in: cd..<zip.count, using: &rng) : Int.random(in: 0..<65_536, using: &rng)
                b[at] = UInt8.random(in: 0...255, using: &rng)
            }
            guard let r = try? ZipArchive(source: MemorySource(bytes: b), name: "all.zip", maxEntries: limits.maxEntries) else { continue }
            readable += 1
            for e in r.entries.prefix(40) {
                guard let entryReader = try? ZipEntryReader(archive: r, entry: e, limits: limits, budget: ScanBudget(limit: limits.maxTotalBytes)) else { continue }
                while let chunk = try? entryReader.next(), !chunk.isEmpty {}
            }
        }
        XCTAssertGreaterThan(readable, 0)
    }

    func testDefaultLocation() {
        XCTAssertEqual(AdvisoryStore.defaultLocation(environment: ["KITSUNE_DB": "/data/osv", "HOME": "/root"]), "/data/osv")
        XCTAssertEqual(AdvisoryStore.defaultLocation(environment: ["HOME": "/home/ci"]), "/home/ci/.cache/kitsune/osv")
    }

    func testRuleIDPreference() {
        XCTAssertEqual(AdvisoryMatcher.preferredID(["PYSEC-2023-74", "CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]), "GHSA-j8r2-6x86-q33q")
        XCTAssertEqual(AdvisoryMatcher.preferredID(["PYSEC-2014-82", "CVE-2014-0012"]), "CVE-2014-0012")
        XCTAssertEqual(AdvisoryMatcher.preferredID(["RUSTSEC-2021-0003", "GO-2021-0001"]), "GO-2021-0001")
    }
}
