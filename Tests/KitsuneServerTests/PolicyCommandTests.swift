import Foundation
import XCTest
@testable import KitsuneServer

/// Policy as code with the real binary (`kitsune policy apply/export/suggest` against a running
/// `kitsune server`), and learning's proposal from observed executables.
final class PolicyCommandTests: XCTestCase {
    static let account = "123456789012"

    func function(_ name: String, tags: [String: String] = ["kitsune": "enabled"]) -> InventoryFunction {
        InventoryFunction(arn: "arn:aws:lambda:eu-west-1:\(Self.account):function:\(name)", accountID: Self.account, region: "eu-west-1", name: name,
                          runtime: "python3.12", architecture: "x86_64", packageType: "Zip", tags: tags, layers: [], role: nil,
                          environmentNames: [], updateStatus: nil, syncedMs: 1)
    }

    func testApplyDryRunExportAndMistakes() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storeArgs = ["--data", dir + "/data"]
        let seed = try await ServerStore.open(data: dir + "/data", databaseURL: nil)
        _ = try await seed.addAccount(AWSAccountRecord(accountID: Self.account, regions: ["eu-west-1"], createdMs: 0), actor: "test")
        try await seed.syncInventory(account: Self.account, region: "eu-west-1", functions: [function("api"), function("other", tags: [:])])
        let editor = try await seed.createAPIToken(role: .editor, name: "ci", actor: "test").text
        await seed.database.close()
        let server = try ServerProcess(storeArgs, log: dir + "/server.log")
        defer { server.kill() }
        let policies = dir + "/policies"
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try "name: web-api\nmode: audit\nscope:\n  tags: [\"kitsune=enabled\"]\nblock: [xmrig*]\n".write(toFile: policies + "/web-api.yaml", atomically: true, encoding: .utf8)
        func kitsune(_ args: [String]) throws -> (status: Int32, output: String) {
            try PostgresCluster.execute(["/usr/bin/env", "KITSUNE_TOKEN=\(editor)", ReliabilityTests.kitsune] + args + ["--server", server.base])
        }
        let dry = try kitsune(["policy", "apply", "-f", policies, "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.output)
        XCTAssertTrue(dry.output.contains("would create web-api: 1 function (api)"), dry.output)
        let listed = try await TestHTTP.json("GET", server.base + "/api/v1/policies", token: editor)
        XCTAssertEqual((listed["policies"] as? [Any])?.count, 0, "a dry run changes nothing")

        let applied = try kitsune(["policy", "apply", "-f", policies])
        XCTAssertEqual(applied.status, 0, applied.output)
        XCTAssertTrue(applied.output.contains("create web-api"), applied.output)
        let again = try kitsune(["policy", "apply", "-f", policies])
        XCTAssertTrue(again.output.contains("0 changes, 1 unchanged"), again.output)

        try "name: web-api\nmode: enforce\nscope:\n  tags: [\"kitsune=enabled\"]\n".write(toFile: policies + "/web-api.yaml", atomically: true, encoding: .utf8)
        try "name: batch\nmode: audit\nscope:\n  functions: [\"batch-*\"]\n".write(toFile: policies + "/batch.yaml", atomically: true, encoding: .utf8)
        let changed = try kitsune(["policy", "apply", "-f", policies])
        XCTAssertTrue(changed.output.contains("update web-api") && changed.output.contains("create batch: 0 functions"), changed.output)
        let exported = dir + "/exported"
        XCTAssertEqual(try kitsune(["policy", "export", "-o", exported]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: exported + "/web-api.yaml", encoding: .utf8), try String(contentsOfFile: policies + "/web-api.yaml", encoding: .utf8))
        try FileManager.default.removeItem(atPath: policies + "/batch.yaml")
        XCTAssertTrue(try kitsune(["policy", "apply", "-f", policies]).output.contains("delete batch"))

        // A mistake names the file and line, exits 2, and nothing is applied.
        try "name: web-api\nmode: enforce\nscope:\n  tags: [\"kitsune=enabled\"]\nblokc: [x]\n".write(toFile: policies + "/web-api.yaml", atomically: true, encoding: .utf8)
        let bad = try kitsune(["policy", "apply", "-f", policies])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.output.contains("web-api.yaml:5: blokc"), bad.output)
        let versions = try await TestHTTP.json("GET", server.base + "/api/v1/policies/web-api/versions", token: editor)
        XCTAssertEqual((versions["versions"] as? [[String: Any]])?.count, 2)
        let noToken = try PostgresCluster.execute(["/usr/bin/env", "-u", "KITSUNE_TOKEN", ReliabilityTests.kitsune, "policy", "export", "--server", server.base])
        XCTAssertEqual(noToken.status, 2)
        XCTAssertTrue(noToken.output.contains("--token"), noToken.output)
    }

    func testLearningProposesOnlyWhatLivesInTheCodeAndRuntimeDirectories() async throws {
        try await forEachBackend { server in
            _ = try await server.store.addAccount(AWSAccountRecord(accountID: Self.account, regions: ["eu-west-1"], createdMs: 0), actor: "test")
            try await server.store.syncInventory(account: Self.account, region: "eu-west-1", functions: [function("api")])
            let group = try await server.group()
            var events: [[String: Any]] = []
            for (i, path) in ["/var/lang/bin/python3.12", "/var/task/bin/convert", "/tmp/m", "/var/task/bin/convert", "/usr/bin/x\"], block: [y", "/dev/shm/.x"].enumerated() {
                events.append(sampleEvent(["action": "observed", "reason": "learn", "executable": path, "seq": i, "instance_id": "i-1"]))
            }
            events.append(sampleEvent(["action": "blocked", "executable": "/var/task/evil", "seq": 99, "instance_id": "i-1"]))
            assertEqual(try await server.post(events, token: group.token).status, 202)
            let id = InventoryFunction.id(arn: "arn:aws:lambda:eu-west-1:\(Self.account):function:api")
            let suggestion = try await server.json("GET", "/api/v1/functions/\(id)/suggested-policy")
            XCTAssertEqual(suggestion.status, 200, "\(suggestion.object)")
            XCTAssertEqual(suggestion.object["allow"] as? [String], ["/var/lang/bin/python3.12", "/var/task/bin/convert"])
            XCTAssertEqual((suggestion.object["not_proposed"] as? [String])?.sorted(), ["/dev/shm/.x", "/tmp/m", "/usr/bin/x\"], block: [y"])
            let adopted = try await server.json("POST", "/api/v1/functions/\(id)/suggested-policy/adopt")
            XCTAssertEqual(adopted.status, 201, "\(adopted.object)")
            XCTAssertEqual(adopted.object["name"] as? String, "learned-api")
            XCTAssertEqual(adopted.object["mode"] as? String, "audit")
            XCTAssertEqual((adopted.object["scope"] as? [String: Any])?["functions"] as? [String], ["api"])
            let viewer = try await server.store.createAPIToken(role: .viewer, name: "v", actor: "t").text
            assertEqual(try await server.json("POST", "/api/v1/functions/\(id)/suggested-policy/adopt", token: viewer).status, 403)
            assertEqual(try await server.json("GET", "/api/v1/functions/fn_nope/suggested-policy").status, 404)
        }
    }
}
