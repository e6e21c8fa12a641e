import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings

final class IgnoreFileTests: XCTestCase {
    let findings = [
        Finding(id: "1111", ruleID: "secret/jwt", kind: .secret, severity: .medium, title: "JWT", message: "",
                location: Location(path: "tests/fixtures/token.txt", line: 1)),
        Finding(id: "2222", ruleID: "secret/jwt", kind: .secret, severity: .medium, title: "JWT", message: "",
                location: Location(path: "src/app.js", line: 9)),
        Finding(id: "3333", ruleID: "secret/github-token", kind: .secret, severity: .high, title: "GitHub", message: "",
                location: Location(path: "lib/a.jar!/x/y.properties")),
    ]

    func testIdAndRuleGlobEntriesWithExpiry() throws {
        let ignore = try IgnoreFile.parse("""
        ignores:
          - rule: secret/jwt
            path: "tests/**"
            reason: test fixtures
          - id: "3333"
            reason: rotated already
            expires: 2099-12-31
          - rule: secret/jwt
            path: "src/*.js"
            reason: old exception
            expires: 2020-01-31
        """, source: "ignore.yaml")
        let (kept, suppressed, notes) = ignore.apply(to: findings, now: Date())
        XCTAssertEqual(kept.map(\.id), ["2222"])
        XCTAssertEqual(suppressed.map(\.finding.id), ["1111", "3333"])
        XCTAssertEqual(suppressed.map(\.reason), ["test fixtures", "rotated already"])
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("expired on 2020-01-31"), notes[0])
        XCTAssertTrue(notes[0].contains("1 finding(s) are reported again"), notes[0])
        // An entry applies through its expiry day and stops the day after.
        let lastDay = try XCTUnwrap(IgnoreFile.day("2099-12-31")).addingTimeInterval(86_399)
        XCTAssertEqual(ignore.apply(to: findings, now: lastDay).suppressed.count, 2)
        XCTAssertEqual(ignore.apply(to: findings, now: lastDay.addingTimeInterval(2)).suppressed.count, 1)
    }

    func testGlobSemantics() throws {
        func matches(_ glob: String, _ path: String) -> Bool {
            path.range(of: IgnoreFile.regex(forGlob: glob), options: .regularExpression) != nil
        }
        XCTAssertTrue(matches("**/fixture.js", "node_modules/a/test/fixture.js"))
        XCTAssertTrue(matches("**/fixture.js", "fixture.js"))
        XCTAssertFalse(matches("src/*.js", "src/deep/app.js"))
        XCTAssertTrue(matches("lib/*.jar!/**", "lib/a.jar!/x/y.properties"))
        XCTAssertTrue(matches("a?c.txt", "abc.txt"))
        XCTAssertFalse(matches("a.c", "abc"))  // dots are literal
    }

    func testMalformedFilesAreErrorsNamingFileAndLine() throws {
        XCTAssertThrowsError(try IgnoreFile.parse("ignores:\n  - rule: x\n    reason: [unclosed\n", source: "bad.yaml")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("bad.yaml"), text)
            XCTAssertTrue(text.contains("3:") || text.contains("line 3") || text.contains("4:"), text)
        }
        XCTAssertThrowsError(try IgnoreFile.parse("- rule: secret/jwt\n", source: "r.yaml")) { error in
            XCTAssertTrue("\(error)".contains("reason"), "\(error)")
        }
        XCTAssertThrowsError(try IgnoreFile.parse("- reason: why\n", source: "r.yaml")) { error in
            XCTAssertTrue("\(error)".contains("needs an `id`"), "\(error)")
        }
        XCTAssertThrowsError(try IgnoreFile.parse("- id: x\n  reason: y\n  expires: next tuesday\n", source: "r.yaml")) { error in
            XCTAssertTrue("\(error)".contains("YYYY-MM-DD"), "\(error)")
        }
        XCTAssertThrowsError(try IgnoreFile.load(path: "/nonexistent/ignore.yaml"))
    }
}
