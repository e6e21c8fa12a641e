import Foundation
import XCTest
@testable import KitsunePolicy

/// Runtime policies: the enforcer's format plus name, scope and priority; precedence; policy as code.
final class RuntimePolicyTests: XCTestCase {
    static let example = """
        name: web-api
        mode: enforce            # audit | enforce | learn
        priority: 10
        scope:
          tags: ["kitsune=enabled", "team=web*"]
          functions: ["api-*"]
          accounts: ["123456789012"]
          regions: ["eu-west-1"]
          runtimes: ["python3.*", "nodejs*"]
        block: [xmrig*]
        allow: [/var/task/bin/convert]
        """

    func testTheIssuesExampleParsesAndItsEnforcerPartKeepsLineNumbers() throws {
        let p = try RuntimePolicy(yaml: Self.example)
        XCTAssertEqual(p.name, "web-api")
        XCTAssertEqual(p.mode, .enforce)
        XCTAssertEqual(p.priority, 10)
        XCTAssertEqual(p.scope.tags, ["kitsune=enabled", "team=web*"])
        XCTAssertEqual(p.scope.runtimes, ["python3.*", "nodejs*"])
        let lines = p.enforcerPolicy.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, Self.example.split(separator: "\n", omittingEmptySubsequences: false).count)
        XCTAssertTrue(lines[1].hasPrefix("mode: enforce"))
        XCTAssertEqual(lines[9], "block: [xmrig*]")
        XCTAssertFalse(p.enforcerPolicy.contains("scope"))
        XCTAssertFalse(p.enforcerPolicy.contains("web-api"))
    }

    func testMistakesNameTheFieldAndLine() {
        func failure(_ text: String) -> RuntimePolicyError? {
            do { _ = try RuntimePolicy(yaml: text); return nil } catch { return error }
        }
        let scope = "scope:\n  functions: [\"*\"]\n"
        XCTAssertEqual(failure("mode: audit\n" + scope)?.field, "name")
        XCTAssertEqual(failure("name: a\n" + scope)?.field, "mode")
        XCTAssertEqual(failure("name: a\nmode: lern\n" + scope)?.field, "mode")
        XCTAssertEqual(failure("name: a\nmode: audit\n")?.field, "scope")
        XCTAssertEqual(failure("name: a\nmode: audit\nscope: {}\n")?.field, "scope")
        XCTAssertEqual(failure("name: a\nmode: audit\nscope:\n  teams: [x]\n")?.field, "scope.teams")
        XCTAssertEqual(failure("name: a\nmode: audit\nscope:\n  accounts: [\"12345'; DROP\"]\n")?.field, "scope.accounts")
        XCTAssertEqual(failure("name: a\nmode: audit\nscope:\n  architectures: [sparc]\n")?.field, "scope.architectures")
        XCTAssertEqual(failure("name: a/../b\nmode: audit\n" + scope)?.field, "name")
        XCTAssertEqual(failure("name: a\nmode: audit\npriority: 1e9\n" + scope)?.field, "priority")
        XCTAssertNotNil(failure("name: a\nname: b\nmode: audit\n" + scope), "a key given twice")
        // The enforcer's own parser judges the rest: a typo is an error with its line, never ignored.
        let typo = failure("name: a\nmode: audit\n" + scope + "blokc: [xmrig]\n")
        XCTAssertEqual(typo?.field, "blokc")
        XCTAssertEqual(typo?.line, 5)
        XCTAssertEqual(failure("name: a\nmode: audit\n" + scope + "allow: [relative/path]\n")?.field, "allow")
        XCTAssertNotNil(failure("name: a\u{0}\nmode: audit\n" + scope))
        XCTAssertNotNil(failure(String(repeating: "# x\n", count: 20_000)))
    }

    func testJSONIsTheSameDocumentAsYAML() throws {
        let json = #"{"name": "web-api", "mode": "audit", "priority": 5, "scope": {"tags": ["kitsune=enabled"], "functions": ["api-*"]}, "block": ["xmrig*", "sha256:0000000000000000000000000000000000000000000000000000000000000000"], "allow": ["/var/task/bin/convert"], "honeypot": {"files": ["/tmp/backup/.aws/credentials"]}}"#
        let yaml = try RuntimePolicy.yaml(fromJSON: Data(json.utf8))
        let p = try RuntimePolicy(yaml: yaml)
        XCTAssertEqual(p.name, "web-api")
        XCTAssertEqual(p.mode, .audit)
        XCTAssertEqual(p.priority, 5)
        XCTAssertEqual(p.scope.functions, ["api-*"])
        XCTAssertTrue(p.enforcerPolicy.contains("\"xmrig*\""))
        XCTAssertThrowsError(try RuntimePolicy.yaml(fromJSON: Data(#"["not", "an", "object"]"#.utf8)))
        XCTAssertThrowsError(try RuntimePolicy.yaml(fromJSON: Data(#"{"name": "a\nmode: enforce"}"#.utf8))) { error in
            XCTAssertEqual((error as? RuntimePolicyError)?.field, "name")
        }
        // Quotes and backslashes stay data, never YAML structure.
        let tricky = try RuntimePolicy.yaml(fromJSON: Data(#"{"name": "a", "mode": "audit", "scope": {"functions": ["x\"], block: [y"]}}"#.utf8))
        XCTAssertEqual(try RuntimePolicy(yaml: tricky).scope.functions, [#"x"], block: [y"#])
    }

    func testScopeMatching() throws {
        let p = try RuntimePolicy(yaml: Self.example)
        var f = FunctionFacts(name: "api-orders", account: "123456789012", region: "eu-west-1", runtime: "python3.12", tags: ["kitsune": "enabled"])
        XCTAssertTrue(p.scope.matches(f))
        f.tags = ["team": "web-frontend"]
        XCTAssertTrue(p.scope.matches(f), "any tag pattern may match")
        f.tags = ["kitsune": "disabled"]
        XCTAssertFalse(p.scope.matches(f))
        f.tags = ["kitsune": "enabled"]
        f.runtime = "java21"
        XCTAssertFalse(p.scope.matches(f), "every criterion given must match")
        f.runtime = nil
        XCTAssertFalse(p.scope.matches(f), "an unknown runtime matches no runtime pattern")
        f.runtime = "nodejs20.x"
        f.region = "us-east-1"
        XCTAssertFalse(p.scope.matches(f))
        XCTAssertTrue(PolicyScope(tags: ["owner"]).matches(FunctionFacts(name: "x", account: "1", region: "r", runtime: nil, tags: ["owner": ""])))
        XCTAssertTrue(PolicyScope(architectures: ["arm64"]).matches(FunctionFacts(name: "x", account: "1", region: "r", runtime: nil, architecture: "arm64")))
    }

    func testPrecedenceIsDeterministic() throws {
        func policy(_ name: String, _ priority: Int, _ scope: String) throws -> RuntimePolicy {
            try RuntimePolicy(yaml: "name: \(name)\nmode: audit\npriority: \(priority)\nscope:\n\(scope)")
        }
        let broad = try policy("broad", 0, "  functions: [\"*\"]\n")
        let tagged = try policy("tagged", 0, "  functions: [\"*\"]\n  tags: [\"kitsune=enabled\"]\n")
        let urgent = try policy("urgent", 50, "  functions: [\"pay*\"]\n")
        let twin = try policy("a-twin", 0, "  functions: [\"*\"]\n  tags: [\"kitsune=enabled\"]\n")
        let fn = FunctionFacts(name: "payments", account: "123456789012", region: "eu-west-1", runtime: "python3.12", tags: ["kitsune": "enabled"])
        for order in [[broad, tagged, urgent, twin], [twin, urgent, tagged, broad]] {
            XCTAssertEqual(PolicyPrecedence.effective(for: fn, among: order) { $0 }?.name, "urgent", "higher priority wins")
            let other = FunctionFacts(name: "orders", account: "1", region: "r", runtime: nil, tags: ["kitsune": "enabled"])
            XCTAssertEqual(PolicyPrecedence.effective(for: other, among: order) { $0 }?.name, "a-twin", "then the more specific scope, then the name")
            XCTAssertEqual(PolicyPrecedence.effective(for: FunctionFacts(name: "orders", account: "1", region: "r", runtime: nil), among: order) { $0 }?.name, "broad")
        }
    }

    func testLayerPolicyAddsTheLambdaDefaultsItDoesNotSet() throws {
        let base = "version: 1\nmode: enforce\npackage: [/var/task, /opt]\nnative_code: block\nhoneypot:\n  files: [/tmp/backup/.aws/credentials]\n"
        let p = try RuntimePolicy(yaml: "name: a\nmode: audit\nscope:\n  functions: [\"*\"]\nnative_code: report\n")
        let text = try p.layerPolicy(base: base)
        XCTAssertTrue(text.contains("package: [/var/task, /opt]"))
        XCTAssertTrue(text.contains("/tmp/backup/.aws/credentials"))
        XCTAssertTrue(text.contains("native_code: report"))
        XCTAssertFalse(text.contains("native_code: block"), "the policy's own setting wins")
        XCTAssertEqual(text.components(separatedBy: "mode:").count, 2, "mode once, the policy's")
    }

    func testSyncPlanMakesTheServerEqualTheDirectory() throws {
        let a = try RuntimePolicy(yaml: "name: a\nmode: audit\nscope:\n  functions: [\"*\"]\n")
        let b = try RuntimePolicy(yaml: "name: b\nmode: enforce\nscope:\n  functions: [\"b*\"]\n")
        let plan = PolicySyncPlan(local: [b, a], remote: [("a", "pol_1", a.document), ("b", "pol_2", "old"), ("c", "pol_3", "x")])
        XCTAssertEqual(plan.unchanged, ["a"])
        XCTAssertEqual(plan.changes, [.update(name: "b", id: "pol_2", document: b.document), .delete(name: "c", id: "pol_3")])
        let dir = NSTemporaryDirectory() + "kitsune-policies-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try a.document.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        try a.document.write(toFile: dir + "/copy.yml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PolicyDirectory.load(dir)) { XCTAssertTrue("\($0)".contains("also defined in")) }
        try "name: z\nmode: audit\nscope:\n  functions: [\"*\"]\nmdoe: x\n".write(toFile: dir + "/copy.yml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PolicyDirectory.load(dir)) { XCTAssertTrue("\($0)".contains("copy.yml:5: mdoe"), "\($0)") }
    }
}
