import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings

/// Each built-in secret rule: a well-formed fake value is found, a look-alike is not.
final class SecretRuleTests: XCTestCase {
    private func scan(_ text: String, binary: Bool = false) throws -> [SecretMatch] {
        let scanner = SecretStreamScanner(rules: try SecretRuleSet.builtIn(), binary: binary)
        scanner.feed(Array(text.utf8))
        return scanner.finish()
    }

    private func assertFinds(_ rule: String, _ text: String, line: Int = 1, file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let matches = try scan(text)
        XCTAssertEqual(matches.map(\.ruleID), [rule], "in: \(text)", file: file, line: lineNumber)
        XCTAssertEqual(matches.first?.line, line, file: file, line: lineNumber)
    }

    private func assertNothing(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let matches = try scan(text)
        XCTAssertEqual(matches.map(\.ruleID), [], "in: \(text)", file: file, line: line)
    }

    func testEveryBuiltInRuleHasAPositiveAndANegativeCase() throws {
        var f = ScanTestSupport.FakeValues(seed: 42)
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        let b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let hex = "0123456789abcdef"
        let keyID = "AKIA" + f.string(16, alphabet: upper)
        let secret = f.string(40, alphabet: b64)

        // AWS: key id alone, key id + secret (pair), secret by name, session token.
        try assertFinds("aws-access-key-id", "aws_access_key_id = \(keyID)")
        try assertFinds("aws-access-key-pair", "[default]\naws_access_key_id = \(keyID)\naws_secret_access_key = \(secret)\n", line: 2)
        try assertFinds("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY=\(secret)")
        try assertFinds("aws-session-token", "aws_session_token = IQoJb3JpZ2luX2Vj" + f.string(300, alphabet: b64))
        try assertNothing("key = AKIAIOSFODNN7EXAMPLE\nsecret = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        try assertNothing("id = AKIA" + String(repeating: "A", count: 16))          // no entropy
        try assertNothing("AWS_SECRET_ACCESS_KEY=" + String(repeating: "ab", count: 20)) // low entropy
        try assertNothing("aws_session_token = <your-session-token>")

        // Private keys (PEM, OpenSSH, PGP; also inside a JSON string with \n escapes).
        let body = f.string(64, alphabet: b64)
        try assertFinds("private-key", "-----BEGIN RSA PRIVATE KEY-----\n\(body)\n\(body)\n-----END RSA PRIVATE KEY-----\n")
        try assertFinds("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----\n\(body)\n-----END OPENSSH PRIVATE KEY-----\n")
        try assertFinds("private-key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n\(body)\n")
        try assertFinds("private-key", "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n\(body)\\n-----END PRIVATE KEY-----\\n\"}")
        try assertNothing("if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):\n    parse(line)\n")
        try assertNothing("-----BEGIN PUBLIC KEY-----\n\(body)\n-----END PUBLIC KEY-----\n")

        try assertFinds("github-token", "token: ghp_\(f.string(36))")
        try assertFinds("github-token", "GITHUB_PAT=github_pat_\(f.string(82, alphabet: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_"))")
        try assertNothing("prefix ghp_ is documented; ghp_short1234")
        try assertFinds("gitlab-token", "CI_TOKEN=glpat-\(f.string(20))")
        try assertNothing("glpat-xxxxxxxxxxxxxxxxxxxx")
        try assertFinds("slack-token", "SLACK=xoxb-\(f.string(11, alphabet: "0123456789"))-\(f.string(12, alphabet: "0123456789"))-\(f.string(24))")
        try assertNothing("the xoxb- prefix marks bot tokens")
        try assertFinds("slack-webhook", "url = https://hooks.slack.com/services/T\(f.string(8, alphabet: upper))/B\(f.string(8, alphabet: upper))/\(f.string(24))")
        try assertNothing("see https://hooks.slack.com/services/ for docs")
        try assertFinds("stripe-secret-key", "stripe.api_key = \"sk_live_\(f.string(24))\"")
        try assertNothing("stripe.api_key = \"sk_live_short\"")
        try assertFinds("google-api-key", "key=AIza\(f.string(35))")
        try assertNothing("AIza is the Google key prefix")
        try assertFinds("google-oauth-client-secret", "client_secret: GOCSPX-\(f.string(28))")
        try assertFinds("sendgrid-api-key", "SENDGRID=SG.\(f.string(22)).\(f.string(43))")
        try assertNothing("msg.SG.send()")
        try assertFinds("twilio-credential", "TWILIO_API_KEY=SK\(f.string(32, alphabet: hex))")
        try assertNothing("TWILIO_API_KEY=SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
        let jwt = "eyJ\(f.string(20)).eyJ\(f.string(40)).\(f.string(43))"
        try assertFinds("jwt", "Authorization: Bearer \(jwt)")
        try assertNothing("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
        try assertFinds("database-url-password", "DATABASE_URL=postgres://app:\(f.string(14))@db.internal:5432/app")
        try assertNothing("DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app")
        try assertNothing("url = mysql://user:password@localhost/db")
        try assertFinds("generic-secret-assignment", "db_password = \"\(f.string(16))\"")
        try assertFinds("generic-secret-config", "API_TOKEN=\(f.string(24))")
        try assertFinds("generic-secret-config", "  password: \(f.string(16))")
        try assertNothing("throw new TypeError('clientToken58: indexHandler66 required');")
        try assertNothing("if (token) return tokenCache.get(token);")
        try assertNothing("secret = this.config.secretName;")
        try assertNothing("password = \"changeme\"")
        try assertNothing("password = \"<your-password>\"")
        try assertNothing("token = \"xxxxxxxxxxxxxxxx\"")
        try assertNothing("const password = this.options.password;")
        try assertNothing("token_type = \"access_token\"")
        try assertNothing("password: process.env.DB_PASSWORD")
    }

    func testEveryRuleInTheDataFileIsCoveredByTheTestAbove() throws {
        let rules = try SecretRuleSet.builtIn().rules.map(\.id)
        let covered = ["aws-access-key-id", "aws-secret-access-key", "aws-session-token", "private-key", "github-token",
                       "gitlab-token", "slack-token", "slack-webhook", "stripe-secret-key", "google-api-key",
                       "google-oauth-client-secret", "sendgrid-api-key", "twilio-credential", "jwt",
                       "database-url-password", "generic-secret-assignment", "generic-secret-config"]
        XCTAssertEqual(Set(rules), Set(covered))
    }

    func testMaskingNeverShowsTheSecret() throws {
        var f = ScanTestSupport.FakeValues(seed: 9)
        let token = "ghp_" + f.string(36)
        let match = try XCTUnwrap(try scan("x = \(token)").first)
        XCTAssertFalse(match.masked.contains(String(token.dropFirst(4).prefix(8))))
        XCTAssertTrue(match.masked.hasPrefix("ghp_"))
        XCTAssertEqual(SecretStreamScanner.mask("abc"), "****")
        XCTAssertEqual(SecretStreamScanner.mask("abcdefghij").filter { $0 != "*" }.count, 4)
    }

    func testSecretsAcrossChunkBoundariesAndLineNumbers() throws {
        var f = ScanTestSupport.FakeValues(seed: 13)
        let token = "glpat-" + f.string(20)
        var text = String(repeating: "filler line without anything\n", count: 20_000)
        let lines = 20_001
        text += "GITLAB=" + token + "\n"
        let bytes = Array(text.utf8)
        // Feed in awkward chunk sizes so the token straddles chunk boundaries.
        for chunkSize in [7, 4096, 65_537] {
            let scanner = SecretStreamScanner(rules: try SecretRuleSet.builtIn(), binary: false)
            var start = 0
            while start < bytes.count {
                scanner.feed(Array(bytes[start..<min(bytes.count, start + chunkSize)]))
                start += chunkSize
            }
            let matches = scanner.finish()
            XCTAssertEqual(matches.map(\.ruleID), ["gitlab-token"], "chunk size \(chunkSize)")
            XCTAssertEqual(matches.first?.line, lines)
            XCTAssertEqual(matches.first?.column, 8)  // the match starts at the token
        }
    }

    func testMatchesPerFileAreCapped() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        var f = ScanTestSupport.FakeValues(seed: 29)
        let lines = (0..<(SecretStreamScanner.maxMatchesPerFile + 50)).map { _ in "t = ghp_\(f.string(36))" }
        try ScanTestSupport.write(lines.joined(separator: "\n"), to: dir + "/p/flood.txt")
        let result = try ScanTestSupport.scanner().scan(path: dir + "/p")
        XCTAssertEqual(result.findings(rule: "secret/github-token").count, SecretStreamScanner.maxMatchesPerFile)
        XCTAssertEqual(result.findings(rule: "input/too-many-secrets").first?.location?.path, "flood.txt")
    }

    func testBinaryFilesOnlyGetBinarySafeRules() throws {
        var f = ScanTestSupport.FakeValues(seed: 17)
        let text = "\u{0}\u{0}password = \"\(f.string(16))\" AKIA\(f.string(16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))\u{0}"
        XCTAssertEqual(try scan(text, binary: true).map(\.ruleID), ["aws-access-key-id"])
    }

    func testVendoredDuplicatesAreReportedOnceWithACount() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        var f = ScanTestSupport.FakeValues(seed: 21)
        let token = "ghp_" + f.string(36)
        for i in 0..<30 { try ScanTestSupport.write("const t = '\(token)'\n", to: dir + "/node_modules/p\(i)/test/fixture.js") }
        try ScanTestSupport.write("other = 'ghp_\(f.string(36))'\n", to: dir + "/src/app.js")
        let result = try ScanTestSupport.scanner().scan(path: dir)
        let tokens = result.findings(rule: "secret/github-token")
        XCTAssertEqual(tokens.count, 2)
        let vendored = try XCTUnwrap(tokens.first { $0.properties["occurrences"] == "30" })
        XCTAssertTrue(vendored.properties["other_locations"]?.contains("more") ?? false)
    }

    func testEnvironmentVariablesFromFunctionConfiguration() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        var f = ScanTestSupport.FakeValues(seed: 23)
        let config = dir + "/function.json"
        try ScanTestSupport.write("""
        {"FunctionName": "orders", "Runtime": "python3.12",
         "Environment": {"Variables": {"STRIPE_KEY": "sk_live_\(f.string(30))", "LOG_LEVEL": "debug",
                                       "DB_PASSWORD": "\(f.string(18))"}}}
        """, to: config)
        try ScanTestSupport.write("print('hi')\n", to: dir + "/pkg/app.py")
        let result = try ScanTestSupport.scanner().scan(path: dir + "/pkg", configPath: config)
        XCTAssertEqual(result.findings(rule: "secret/stripe-secret-key").first?.location?.path, config + "#Environment.Variables.STRIPE_KEY")
        XCTAssertEqual(result.findings(rule: "secret/generic-secret-assignment").first?.location?.path, config + "#Environment.Variables.DB_PASSWORD")
        XCTAssertEqual(result.findings.filter { $0.kind == .secret }.count, 2)

        try ScanTestSupport.write("{\n  \"Environment\": {\n    \"Variables\": {\"A\": b}\n}}", to: config)
        XCTAssertThrowsError(try ScanTestSupport.scanner().scan(path: dir + "/pkg", configPath: config)) { error in
            XCTAssertTrue("\(error)".contains(config), "\(error)")
            XCTAssertTrue("\(error)".contains("line 3"), "\(error)")
        }
    }
}
