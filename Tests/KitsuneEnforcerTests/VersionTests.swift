import Foundation
import KitsunePolicyCore
import XCTest

/// `--version` of the three binaries: one version (KitsunePolicyCore's `kitsuneVersion`), the commit
/// stamped at build time (`unknown` in a plain `swift build`), the same line format everywhere.
final class VersionTests: XCTestCase {
    private let pattern = #"^(kitsune|kitsune-enforcer|kitsune-ship) (\S+) \(commit ([0-9a-f]{7,40}|unknown)\)$"#

    func testVersionLineFormat() {
        let version = String(decoding: Bytes(literal: kitsuneVersion), as: UTF8.self)
        XCTAssertEqual(String(decoding: versionLine(program: "kitsune", commit: Array("1a2b3c4d".utf8)), as: UTF8.self),
                       "kitsune \(version) (commit 1a2b3c4d)\n")
        XCTAssertEqual(String(decoding: versionLine(program: "kitsune-ship", commit: []), as: UTF8.self),
                       "kitsune-ship \(version) (commit unknown)\n")
        XCTAssertNotNil(version.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+"#, options: .regularExpression), version)
    }

    func testEveryBinaryPrintsTheSameVersionAndCommit() throws {
        let version = String(decoding: Bytes(literal: kitsuneVersion), as: UTF8.self)
        var commits: Set<String> = []
        for name in ["kitsune", "kitsune-enforcer", "kitsune-ship"] {
            let r = try EnforcerFixture.run([try EnforcerFixture.builtProduct(name), "--version"], timeout: 30)
            XCTAssertEqual(r.status, 0, "\(name) --version: \(r.stderr)")
            let line = r.stdout.trimmingCharacters(in: .newlines)
            let regex = try NSRegularExpression(pattern: pattern)
            guard let m = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) else {
                XCTFail("\(name) --version printed \(line)"); continue
            }
            let field = { (i: Int) in String(line[Range(m.range(at: i), in: line)!]) }
            XCTAssertEqual(field(1), name)
            XCTAssertEqual(field(2), version, "\(name) has its own version number")
            commits.insert(field(3))
        }
        XCTAssertEqual(commits.count, 1, "the binaries of one build disagree on the commit: \(commits)")
    }

    func testProbeNamesTheCommit() throws {
        let r = try EnforcerFixture.run([try EnforcerFixture.builtProduct("kitsune-enforcer"), "--probe"], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        let probe = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(probe["version"] as? String, String(decoding: Bytes(literal: kitsuneVersion), as: UTF8.self))
        let commit = try XCTUnwrap(probe["commit"] as? String)
        XCTAssertNotNil(commit.range(of: #"^([0-9a-f]{7,40}|unknown)$"#, options: .regularExpression), commit)
    }
}
