import Foundation
import XCTest
@testable import KitsuneServer

/// `/api/v1/policies`: YAML or JSON in, validated by the enforcer's parser, immutable versions with
/// diffs, restore, roles; on both stores.
final class PolicyAPITests: XCTestCase {
    static let webAPI = """
        name: web-api
        mode: audit
        priority: 10
        scope:
          tags: ["kitsune=enabled"]
        block: [xmrig*]
        """

    func yaml(_ server: TestServer, _ method: String, _ path: String, _ text: String, token: String? = nil,
              headers: [String: String] = [:]) async throws -> (status: Int, object: [String: Any]) {
        var all = ["Content-Type": "application/yaml", "Authorization": "Bearer \(token ?? server.admin)"]
        all.merge(headers) { $1 }
        let r = try await TestHTTP.exchange(method: method, url: server.base + path, headers: all, body: Data(text.utf8))
        return (r.status, (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] ?? [:])
    }

    func testCreateUpdateVersionsDiffRestoreDelete() async throws {
        try await forEachBackend { server in
            let created = try await yaml(server, "POST", "/api/v1/policies", Self.webAPI)
            XCTAssertEqual(created.status, 201, "\(created.object)")
            let id = try XCTUnwrap(created.object["id"] as? String)
            XCTAssertEqual(created.object["version"] as? Int, 1)
            XCTAssertEqual((created.object["scope"] as? [String: Any])?["tags"] as? [String], ["kitsune=enabled"])
            XCTAssertEqual(created.object["document"] as? String, Self.webAPI, "the document is kept verbatim")

            let dup = try await yaml(server, "POST", "/api/v1/policies", Self.webAPI)
            XCTAssertEqual(dup.status, 409)

            let v2Text = Self.webAPI.replacingOccurrences(of: "mode: audit", with: "mode: enforce")
            let stale = try await yaml(server, "PUT", "/api/v1/policies/\(id)", v2Text, headers: ["If-Match": "7"])
            XCTAssertEqual(stale.status, 409, "an edit of an old version is refused")
            let v2 = try await yaml(server, "PUT", "/api/v1/policies/\(id)", v2Text, headers: ["If-Match": "1"])
            XCTAssertEqual(v2.status, 200, "\(v2.object)")
            XCTAssertEqual(v2.object["version"] as? Int, 2)
            XCTAssertEqual(v2.object["mode"] as? String, "enforce")

            let versions = try await server.json("GET", "/api/v1/policies/\(id)/versions")
            let list = try XCTUnwrap(versions.object["versions"] as? [[String: Any]])
            XCTAssertEqual(list.map { $0["version"] as? Int }, [2, 1])
            let diff = try XCTUnwrap(list[0]["diff"] as? String)
            XCTAssertTrue(diff.contains("-mode: audit") && diff.contains("+mode: enforce"), diff)
            XCTAssertTrue((list[0]["actor"] as? String)?.contains("test admin") == true)

            let restored = try await server.json("POST", "/api/v1/policies/\(id)/versions/1/restore")
            XCTAssertEqual(restored.status, 200, "\(restored.object)")
            XCTAssertEqual(restored.object["version"] as? Int, 3)
            XCTAssertEqual(restored.object["mode"] as? String, "audit")

            let byName = try await server.json("GET", "/api/v1/policies/web-api")
            XCTAssertEqual(byName.object["id"] as? String, id)
            let audit = try await server.json("GET", "/api/v1/audit")
            let actions = (audit.object["entries"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            XCTAssertTrue(actions.contains("policy.create") && actions.contains("policy.update"), "\(actions)")

            let deleted = try await server.request("DELETE", "/api/v1/policies/\(id)", token: server.admin)
            XCTAssertEqual(deleted.status, 204)
            let gone = try await server.json("GET", "/api/v1/policies/\(id)")
            XCTAssertEqual(gone.status, 404)
            let again = try await yaml(server, "POST", "/api/v1/policies", Self.webAPI)
            XCTAssertEqual(again.status, 201, "a deleted policy's name can be used again")
            XCTAssertEqual(again.object["version"] as? Int, 4, "its history continues")
        }
    }

    func testJSONBodiesAndValidationErrorsNameTheField() async throws {
        try await forEachBackend { server in
            let json = try await server.json("POST", "/api/v1/policies", body: ["name": "j", "mode": "enforce", "scope": ["functions": ["api-*"]], "block": ["xmrig*"]])
            XCTAssertEqual(json.status, 201, "\(json.object)")
            XCTAssertTrue((json.object["document"] as? String)?.contains("\"xmrig*\"") == true)

            let learn = try await yaml(server, "POST", "/api/v1/policies", "name: learner\nmode: learn\nscope:\n  tags: [\"kitsune=learn\"]\n")
            XCTAssertEqual(learn.status, 201, "the enforcer's parser takes mode learn: \(learn.object)")
            XCTAssertEqual(learn.object["mode"] as? String, "learn")
            let cases: [(String, String)] = [
                ("name: a\nmode: audit\nscope:\n  functions: [\"*\"]\nblokc: [x]\n", "blokc"),
                ("name: a\nmode: enforcing\nscope:\n  functions: [\"*\"]\n", "mode"),
                ("name: a\nmode: audit\n", "scope"),
                ("name: ../../etc\nmode: audit\nscope:\n  functions: [\"*\"]\n", "name"),
                ("name: a\nmode: audit\nscope:\n  accounts: [\"1' OR '1'='1\"]\n", "scope.accounts"),
                ("name: a\nmode: audit\nscope:\n  functions: [\"*\"]\nallow: [tmp/x]\n", "allow"),
                ("\t- not yaml", "document"),
            ]
            for (text, field) in cases {
                let r = try await yaml(server, "POST", "/api/v1/policies", text)
                XCTAssertEqual(r.status, 400, "\(text): \(r.object)")
                XCTAssertEqual(r.object["field"] as? String, field, "\(text): \(r.object)")
            }
            let typo = try await yaml(server, "POST", "/api/v1/policies", "name: a\nmode: audit\nscope:\n  functions: [\"*\"]\nblokc: [x]\n")
            XCTAssertEqual(typo.object["line"] as? Int, 5)
            let huge = try await yaml(server, "POST", "/api/v1/policies", String(repeating: "# padding\n", count: 10_000))
            XCTAssertEqual(huge.status, 413)
            let wrongType = try await TestHTTP.exchange(method: "POST", url: server.base + "/api/v1/policies",
                                                        headers: ["Content-Type": "text/plain", "Authorization": "Bearer \(server.admin)"], body: Data(Self.webAPI.utf8))
            XCTAssertEqual(wrongType.status, 415)
            let list = try await server.json("GET", "/api/v1/policies")
            XCTAssertEqual((list.object["policies"] as? [[String: Any]])?.count, 2, "nothing half-written by the refused ones")
        }
    }

    func testViewersReadAndCannotWrite() async throws {
        try await forEachBackend { server in
            let viewer = try await server.store.createAPIToken(role: .viewer, name: "v", actor: "test").text
            let refused = try await yaml(server, "POST", "/api/v1/policies", Self.webAPI, token: viewer)
            XCTAssertEqual(refused.status, 403)
            let created = try await yaml(server, "POST", "/api/v1/policies", Self.webAPI)
            let id = try XCTUnwrap(created.object["id"] as? String)
            assertEqual(try await yaml(server, "PUT", "/api/v1/policies/\(id)", Self.webAPI, token: viewer).status, 403)
            assertEqual(try await server.request("DELETE", "/api/v1/policies/\(id)", token: viewer).status, 403)
            assertEqual(try await server.json("GET", "/api/v1/policies", token: viewer).status, 200)
            let group = try await server.group()
            assertEqual(try await server.json("GET", "/api/v1/policies", token: group.token).status, 403, "an enforcer's token reads no policy")
        }
    }

    func testPreviewListsTheFunctionsAPolicyWouldCover() async throws {
        try await forEachBackend { server in
            _ = try await server.store.addAccount(AWSAccountRecord(accountID: "123456789012", regions: ["eu-west-1"], createdMs: 0), actor: "test")
            func fn(_ name: String, _ tags: [String: String]) -> InventoryFunction {
                InventoryFunction(arn: "arn:aws:lambda:eu-west-1:123456789012:function:\(name)", accountID: "123456789012", region: "eu-west-1", name: name,
                                  runtime: "python3.12", architecture: "x86_64", packageType: "Zip", tags: tags, layers: [], role: nil,
                                  environmentNames: [], updateStatus: nil, syncedMs: 1)
            }
            try await server.store.syncInventory(account: "123456789012", region: "eu-west-1",
                                                 functions: [fn("api", ["kitsune": "enabled"]), fn("batch", ["kitsune": "enabled"]), fn("other", [:])])
            _ = try await yaml(server, "POST", "/api/v1/policies", "name: batch-only\nmode: enforce\npriority: 50\nscope:\n  functions: [batch]\n")
            let preview = try await yaml(server, "POST", "/api/v1/policies/preview", Self.webAPI)
            XCTAssertEqual(preview.status, 200, "\(preview.object)")
            XCTAssertEqual((preview.object["functions"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["api"])
            XCTAssertEqual((preview.object["shadowed"] as? [[String: Any]])?.compactMap { $0["effective_policy"] as? String }, ["batch-only"])
            assertEqual((try await server.json("GET", "/api/v1/policies")).object["policies"].map { ($0 as? [Any])?.count }, 1, "a preview saves nothing")
        }
    }
}
