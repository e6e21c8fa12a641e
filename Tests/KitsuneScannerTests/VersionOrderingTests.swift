import XCTest
@testable import KitsuneScanner

/// Table-driven ordering tests with real-world version pairs: each row is `lhs < rhs` (strictly),
/// checked in both directions, plus equal pairs.
final class VersionOrderingTests: XCTestCase {
    private func assertOrdered(_ o: any VersionOrdering, _ rows: [(String, String)], file: StaticString = #filePath, line: UInt = #line) {
        for (a, b) in rows {
            XCTAssertEqual(o.compare(a, b), -1, "\(a) < \(b)", file: file, line: line)
            XCTAssertEqual(o.compare(b, a), 1, "\(b) > \(a)", file: file, line: line)
        }
    }
    private func assertEqualVersions(_ o: any VersionOrdering, _ rows: [(String, String)], file: StaticString = #filePath, line: UInt = #line) {
        for (a, b) in rows { XCTAssertEqual(o.compare(a, b), 0, "\(a) == \(b)", file: file, line: line) }
    }

    /// Every element sorts strictly before every later one.
    private func assertAscending(_ o: any VersionOrdering, _ list: [String], file: StaticString = #filePath, line: UInt = #line) {
        for i in list.indices {
            for j in list.indices where j > i {
                XCTAssertEqual(o.compare(list[i], list[j]), -1, "\(list[i]) < \(list[j])", file: file, line: line)
                XCTAssertEqual(o.compare(list[j], list[i]), 1, "\(list[j]) > \(list[i])", file: file, line: line)
            }
        }
    }

    func testMavenComparableVersionSequences() {
        // The ascending lists of Maven's own ComparableVersion test suite (qualifiers, then numbers).
        let o = MavenVersionOrdering()
        assertAscending(o, ["1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc",
                            "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1",
                            "1-1-snapshot", "1-1", "1-2", "1-123"])
        assertAscending(o, ["2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1",
                            "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m"])
        assertEqualVersions(o, [("1", "1.0.0"), ("1", "1-0"), ("1", "1.0-0"), ("1ga", "1"), ("1release", "1"), ("1final", "1"),
                                ("1cr", "1rc"), ("1a1", "1-alpha-1"), ("1b2", "1-beta-2"), ("1m3", "1-milestone-3"),
                                ("1X", "1x"), ("1A", "1a"), ("1-SNAPSHOT", "1-snapshot")])
    }

    func testPEP440PackagingSequence() {
        // The ascending list used by the `packaging` project's version tests.
        assertAscending(PEP440Ordering(), [
            "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456",
            "1.0b2.post345", "1.0c1.dev456", "1.0c1", "1.0rc2", "1.0c3", "1.0", "1.0.post456.dev34", "1.0.post456", "1.1.dev1",
            "1.2+123abc", "1.2+123abc456", "1.2+abc", "1.2+abc123", "1.2+abc123def", "1.2+1234.abc", "1.2+123456",
            "1.2.r32+123456", "1.2.rev33+123456", "1!1.0b2.post345.dev456", "1!1.0", "1!1.2.rev33+123456",
        ])
    }

    func testRubyGemsSequence() {
        assertAscending(RubyGemsVersionOrdering(), [
            "0.9", "1.0.a", "1.0.a2", "1.0.a9", "1.0.a10", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.1.pre", "1.1", "1.10", "2.0.0.1",
        ])
    }

    func testNpmSemVer() {
        let o = SemVerOrdering()
        assertOrdered(o, [
            ("4.17.20", "4.17.21"), ("1.2.3", "1.10.0"), ("0.9.99", "1.0.0"), ("2.0.0-rc.1", "2.0.0"),
            ("1.0.0-alpha", "1.0.0-alpha.1"), ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.0.0-alpha.beta", "1.0.0-beta"),
            ("1.0.0-beta", "1.0.0-beta.2"), ("1.0.0-beta.2", "1.0.0-beta.11"), ("1.0.0-beta.11", "1.0.0-rc.1"),
            ("1.0.0-rc.1", "1.0.0"), ("7.0.0-next.9", "7.0.0"), ("18.2.0", "18.3.0-canary-1"), ("3.4.1", "3.4.10"),
            ("99999999999999999999.0.0", "100000000000000000000.0.0"),
        ])
        assertEqualVersions(o, [("1.0.0+build.1", "1.0.0+build.2"), ("v1.2.3", "1.2.3"), ("1.0.0-rc.1+x", "1.0.0-rc.1")])
        XCTAssertNil(o.compare("1.2", "1.2.0"), "npm SemVer needs three components")
        XCTAssertNil(o.compare("1.2.3-", "1.2.3"))
        XCTAssertNil(o.compare("latest", "1.0.0"))
    }

    func testCargoSemVer() {
        let o = VersionOrderings.named("cargo")!
        assertOrdered(o, [("0.10.0", "0.10.1"), ("1.0.0-beta.3", "1.0.0"), ("0.3.17", "0.3.20"), ("1.28.0", "1.28.1")])
    }

    func testGo() {
        let o = GoVersionOrdering()
        assertOrdered(o, [
            ("v0.3.7", "v0.3.8"), ("0.3.7", "v0.3.8"),
            ("v0.0.0-20190308221718-c2843e01d9a2", "v0.0.0-20200622213623-75b288015ac9"),
            ("v0.0.0-20210101000000-abcdefabcdef", "v0.1.0"),
            ("v1.2.3", "v1.2.4-0.20210101000000-abcdefabcdef"), ("v1.2.4-0.20210101000000-abcdefabcdef", "v1.2.4"),
            ("v1.5.0-pre", "v1.5.0"), ("go1.20.12", "go1.21.0"), ("go1.21", "go1.21.1"),
        ])
        assertEqualVersions(o, [("v2.0.0+incompatible", "2.0.0"), ("go1.21", "1.21.0")])
    }

    func testPEP440() {
        let o = PEP440Ordering()
        assertOrdered(o, [
            ("1.0.dev0", "1.0a1"), ("1.0a1", "1.0a2.dev1"), ("1.0a2.dev1", "1.0a2"), ("1.0a2", "1.0b1"),
            ("1.0b1", "1.0rc1"), ("1.0rc1", "1.0"), ("1.0", "1.0.post1.dev0"), ("1.0.post1.dev0", "1.0.post1"),
            ("1.0.post1", "1.1"), ("1.0", "1.0+local"), ("1.0+abc", "1.0+5"), ("1.0+5", "1.0+5.1"),
            ("2.9.9", "1!0.1"), ("5.2a1", "5.2b1"), ("5.2b1", "5.2"), ("2.30.0", "2.31.0"), ("1.26.16", "1.26.17"),
            ("1.0.0.dev1", "1.0.0"), ("0.9", "0.10"), ("1.0a1", "1.0.post1"), ("3.1.2", "3.1.3"),
        ])
        assertEqualVersions(o, [
            ("1.0", "1.0.0"), ("1.0", "v1.0"), ("1.0ALPHA1", "1.0a1"), ("1.0-beta.2", "1.0b2"), ("1.0c1", "1.0rc1"),
            ("1.0-1", "1.0.post1"), ("1.0rev1", "1.0.post1"), ("1.0.preview2", "1.0rc2"), ("1.0a", "1.0a0"),
            ("1.0-dev", "1.0.dev0"), ("0!1.0", "1.0"), ("1.0_post_2", "1.0.post2"),
        ])
        XCTAssertNil(o.compare("1.0.x", "1.0"))
        XCTAssertNil(o.compare("", "1.0"))
        XCTAssertNil(o.compare("1.0+", "1.0"))
    }

    func testMaven() {
        let o = MavenVersionOrdering()
        assertOrdered(o, [
            ("2.14.1", "2.15.0"), ("2.15.0", "2.16.0"), ("2.16.0", "2.17.0"), ("1.0-alpha-1", "1.0-beta-1"),
            ("1.0-beta-1", "1.0-milestone-1"), ("1.0-milestone-1", "1.0-rc-1"), ("1.0-rc-1", "1.0-SNAPSHOT"),
            ("1.0-SNAPSHOT", "1.0"), ("1.0", "1.0-sp"), ("1.0-sp", "1.0-foo"), ("1.0a1", "1.0b1"), ("1.0m1", "1.0rc1"),
            ("1.0", "1.0.1"), ("1.0.1", "1.1"), ("1-1", "1-2"), ("2.0.0.RC1", "2.0.0.RELEASE"),
            ("5.3.17", "5.3.18"), ("31.1-jre", "32.0.0-jre"), ("1.0-alpha", "1.0"), ("1.9", "1.10"),
            ("2.12.6", "2.12.6.1"), ("1.0-cr1", "1.0"),
        ])
        assertEqualVersions(o, [
            ("1.0", "1"), ("1.0.0", "1"), ("1.0-final", "1.0"), ("1.0-ga", "1.0"), ("1.0.RELEASE", "1.0"),
            ("1.0-cr1", "1.0-rc1"), ("1-0.0", "1"), ("1.0a1", "1.0-alpha-1"), ("1.0M2", "1.0-milestone-2"),
        ])
    }

    func testRubyGems() {
        let o = RubyGemsVersionOrdering()
        assertOrdered(o, [
            ("1.13.9", "1.13.10"), ("1.0.0.pre", "1.0.0"), ("1.0.0.a", "1.0.0.b"), ("1.0.0.rc1", "1.0.0"),
            ("6.1.7.2", "6.1.7.3"), ("7.0.0.alpha2", "7.0.0.beta1"), ("7.0.0.beta1", "7.0.0.rc1"),
            ("1.0.0-1", "1.0.0"), ("0.9", "0.10"), ("2.7.4", "2.7.4.1"),
        ])
        assertEqualVersions(o, [("1.0", "1"), ("1.0.0", "1.0"), ("1.0.a", "1.0.a.0")])
        XCTAssertNil(o.compare("abc", "1.0"))
    }

    func testComposerLoose() {
        let o = VersionOrderings.named("semver-loose")!
        assertOrdered(o, [("5.4", "5.4.1"), ("v2.0.0", "2.0.1"), ("1.0.0-RC1", "1.0.0"), ("1.0.0-beta2", "1.0.0-RC1"),
                          ("1.0.0-alpha1", "1.0.0-beta1")])
    }
}
