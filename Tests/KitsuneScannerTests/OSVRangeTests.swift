import XCTest
import KitsuneFindings
@testable import KitsuneScanner

/// OSV evaluation semantics (schema §Evaluation) and the CVSS v3 calculator.
final class OSVRangeTests: XCTestCase {
    private func affected(_ events: [OSVEvent], type: String = "ECOSYSTEM", versions: [String]? = nil) -> OSVAffected {
        OSVAffected(package: OSVPackage(ecosystem: "PyPI", name: "x"), ranges: [OSVRange(type: type, events: events)], versions: versions)
    }
    private let pep = RangeEvaluator(ecosystemOrdering: PEP440Ordering())
    private let npm = RangeEvaluator(ecosystemOrdering: SemVerOrdering())

    func testIntroducedZeroMeansEveryVersion() {
        let a = affected([OSVEvent(.introduced, "0")])
        for v in ["0.0.1", "1.0", "99.0", "1.0.dev0"] { XCTAssertEqual(pep.evaluate(v, a), .affected, v) }
    }

    func testIntroducedFixedIsHalfOpen() {
        let a = affected([OSVEvent(.introduced, "2.3.0"), OSVEvent(.fixed, "2.31.0")])
        XCTAssertEqual(pep.evaluate("2.2.9", a), .notAffected)
        XCTAssertEqual(pep.evaluate("2.3.0", a), .affected)
        XCTAssertEqual(pep.evaluate("2.3", a), .affected, "PEP 440 2.3 == 2.3.0")
        XCTAssertEqual(pep.evaluate("2.30.0", a), .affected)
        XCTAssertEqual(pep.evaluate("2.31.0rc1", a), .affected, "a prerelease of the fix is before the fix")
        XCTAssertEqual(pep.evaluate("2.31.0", a), .notAffected)
        XCTAssertEqual(pep.evaluate("2.32.3", a), .notAffected)
    }

    func testSeveralPairsInAnyOrder() {
        // urllib3 PYSEC-2023-192 lists the 2.x pair before the 1.x pair: events must be sorted.
        let a = affected([OSVEvent(.introduced, "2.0.0"), OSVEvent(.fixed, "2.0.6"),
                          OSVEvent(.introduced, "0"), OSVEvent(.fixed, "1.26.17")])
        XCTAssertEqual(pep.evaluate("1.26.16", a), .affected)
        XCTAssertEqual(pep.evaluate("1.26.17", a), .notAffected)
        XCTAssertEqual(pep.evaluate("1.26.18", a), .notAffected)
        XCTAssertEqual(pep.evaluate("2.0.0", a), .affected)
        XCTAssertEqual(pep.evaluate("2.0.5", a), .affected)
        XCTAssertEqual(pep.evaluate("2.0.6", a), .notAffected)
        XCTAssertEqual(pep.evaluate("2.2.0", a), .notAffected)
    }

    func testLastAffectedIsInclusive() {
        let a = affected([OSVEvent(.introduced, "0"), OSVEvent(.lastAffected, "1.11.0")])
        XCTAssertEqual(pep.evaluate("1.11.0", a), .affected)
        XCTAssertEqual(pep.evaluate("1.11.0.post1", a), .notAffected)
        XCTAssertEqual(pep.evaluate("1.12.0", a), .notAffected)
    }

    func testLimitBoundsTheWholeRange() {
        let a = affected([OSVEvent(.introduced, "1.0.0"), OSVEvent(.limit, "1.5.0")], type: "SEMVER")
        XCTAssertEqual(npm.evaluate("1.4.9", a), .affected)
        XCTAssertEqual(npm.evaluate("1.5.0", a), .notAffected)
        XCTAssertEqual(npm.evaluate("2.0.0", a), .notAffected)
        let star = affected([OSVEvent(.introduced, "1.0.0"), OSVEvent(.limit, "*")], type: "SEMVER")
        XCTAssertEqual(npm.evaluate("9.0.0", star), .affected)
        let two = affected([OSVEvent(.introduced, "0"), OSVEvent(.limit, "1.0.0"), OSVEvent(.limit, "3.0.0")], type: "SEMVER")
        XCTAssertEqual(npm.evaluate("2.0.0", two), .affected, "before any limit is enough")
        XCTAssertEqual(npm.evaluate("3.0.0", two), .notAffected)
    }

    func testVersionsListAndGitRanges() {
        let a = OSVAffected(package: nil, ranges: [OSVRange(type: "GIT", repo: "https://x", events: [OSVEvent(.introduced, "0"), OSVEvent(.fixed, "abc123")])],
                            versions: ["1.0", "1.1"])
        XCTAssertEqual(pep.evaluate("1.1", a), .affected)
        XCTAssertEqual(pep.evaluate("1.1.0", a), .affected, "versions list matched with ecosystem equality")
        XCTAssertEqual(pep.evaluate("1.2", a), .notAffected, "GIT ranges are not evaluated")
    }

    func testUnparseableVersionIsUnknownNotClean() {
        let a = affected([OSVEvent(.introduced, "0"), OSVEvent(.fixed, "2.0")])
        XCTAssertEqual(pep.evaluate("not-a-version", a), .unknown)
    }

    func testSemverRangeOnGoVersionWithV() {
        let go = RangeEvaluator(ecosystemOrdering: GoVersionOrdering())
        let a = OSVAffected(package: nil, ranges: [OSVRange(type: "SEMVER", events: [OSVEvent(.introduced, "0"), OSVEvent(.fixed, "0.3.8")])])
        XCTAssertEqual(go.evaluate("v0.3.7", a), .affected)
        XCTAssertEqual(go.evaluate("v0.0.0-20200622213623-75b288015ac9", a), .affected)
        XCTAssertEqual(go.evaluate("v0.3.8", a), .notAffected)
    }

    func testEventDecodingRejectsTwoKinds() throws {
        let good = try JSONDecoder().decode(OSVEvent.self, from: Data(#"{"last_affected":"1.0"}"#.utf8))
        XCTAssertEqual(good, OSVEvent(.lastAffected, "1.0"))
        XCTAssertThrowsError(try JSONDecoder().decode(OSVEvent.self, from: Data(#"{"introduced":"1.0","fixed":"1.0.2"}"#.utf8)))
    }

    func testCVSS31KnownScores() throws {
        let c = try CVSSCalculator.load()
        let known: [(String, Double, Severity)] = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, .critical),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, .critical),   // log4j CVE-2021-44228
            ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, .high),        // lodash CVE-2021-23337
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, .medium),      // urllib3 CVE-2018-25091
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", 8.1, .high),        // urllib3 CVE-2023-43804
            ("CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.2, .medium),      // urllib3 CVE-2023-45803
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, .high),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, .medium),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, .critical),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, .low),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, .info),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, .critical),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8, .critical),
        ]
        for (vector, score, band) in known {
            XCTAssertEqual(try c.baseScore(vector), score, accuracy: 0.0001, vector)
            XCTAssertEqual(c.severity(score: try c.baseScore(vector)), band, vector)
        }
        for bad in ["CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "garbage"] {
            XCTAssertThrowsError(try c.baseScore(bad), bad)
        }
        XCTAssertEqual(c.severity(word: "MODERATE"), .medium)
    }
}
