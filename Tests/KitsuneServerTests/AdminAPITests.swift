import Foundation
import XCTest
@testable import KitsuneServer

/// Groups, tokens, roles, the fleet and the audit log, on both stores.
final class AdminAPITests: XCTestCase {
    func testRolesAreEnforced() async throws {
        try await forEachBackend { s in
            let viewer = try await s.json("POST", "/api/v1/tokens", body: ["role": "viewer", "name": "auditor"])
            XCTAssertEqual(viewer.status, 201)
            let editor = try await s.json("POST", "/api/v1/tokens", body: ["role": "editor"])
            let v = try XCTUnwrap(viewer.object["token"] as? String), e = try XCTUnwrap(editor.object["token"] as? String)
            assertEqual(try await s.json("GET", "/api/v1/events", token: v).status, 200)
            assertEqual(try await s.json("POST", "/api/v1/enforcer-groups", token: v, body: ["name": "x"]).status, 403)
            assertEqual(try await s.json("POST", "/api/v1/enforcer-groups", token: e, body: ["name": "x"]).status, 201)
            assertEqual(try await s.json("POST", "/api/v1/tokens", token: e, body: ["role": "admin"]).status, 403)
            assertEqual(try await s.json("GET", "/api/v1/tokens", token: e).status, 403)
            assertEqual(try await s.json("POST", "/api/v1/tokens", body: ["role": "ingest"]).status, 400)
            assertEqual(try await s.json("POST", "/api/v1/tokens", body: ["role": "viewer", "admin": true]).object["field"] as? String, "admin")
            // Revoked: refused at once.
            let id = try XCTUnwrap(viewer.object["id"] as? String)
            assertEqual(try await s.request("DELETE", "/api/v1/tokens/\(id)", token: s.admin).status, 204)
            assertEqual(try await s.json("GET", "/api/v1/events", token: v).status, 401)
            assertEqual(try await s.request("DELETE", "/api/v1/tokens/\(id)", token: s.admin).status, 404)
            // Listing never shows a secret, and no answer repeats a token after its creation.
            let list = try await s.request("GET", "/api/v1/tokens", token: s.admin)
            let text = String(decoding: list.body, as: UTF8.self)
            XCTAssertFalse(text.contains(v) || text.contains(e) || text.contains(s.admin), text)
            XCTAssertFalse(text.contains(String(v.suffix(64))))
            assertEqual(try await s.json("GET", "/api/v1/tokens").object["tokens"].map { ($0 as? [Any])?.count }, 4)
        }
    }

    func testGroupsLifecycleAndAudit() async throws {
        try await forEachBackend { s in
            let g = try await s.group("web")
            assertEqual(try await s.json("POST", "/api/v1/enforcer-groups", body: ["name": "web"]).status, 409)
            assertEqual(try await s.json("POST", "/api/v1/enforcer-groups", body: ["name": ""]).object["field"] as? String, "name")
            assertEqual(try await s.json("POST", "/api/v1/enforcer-groups", body: ["name": "a\u{7}b"]).status, 400)
            assertEqual(try await s.json("POST", "/api/v1/enforcer-groups", body: ["nam": "x"]).object["field"] as? String, "nam")
            assertEqual(try await s.post([sampleEvent(["action": "started", "instance_id": "i1", "seq": 1])], token: g.token).status, 202)
            var list = try await s.json("GET", "/api/v1/enforcer-groups")
            let groups = try XCTUnwrap(list.object["groups"] as? [[String: Any]])
            XCTAssertEqual(groups.first?["enforcers"] as? Int, 1)
            XCTAssertNil(groups.first?["token"], "a token is shown once")
            assertEqual(try await s.json("GET", "/api/v1/enforcer-groups/nope").status, 404)
            assertEqual(try await s.request("DELETE", "/api/v1/enforcer-groups/\(g.id)", token: s.admin).status, 204)
            assertEqual(try await s.post([sampleEvent()], token: g.token).status, 401, "its tokens die with it")
            assertEqual(try await s.events().count, 1, "its events stay")
            list = try await s.json("GET", "/api/v1/audit")
            let actions = (list.object["entries"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            XCTAssertEqual(Array(actions.prefix(2)), ["group.delete", "group.create"], "\(actions)")
        }
    }

    func testTheFleetFromStartedEvents() async throws {
        try await forEachBackend(configure: { $0.staleAfterMs = 3_600_000 }) { s in
            let g = try await s.group()
            let started: [String: Any] = [
                "time": Timestamps.format(Timestamps.nowMs()), "mode": "enforce", "action": "started", "version": "0.2.0",
                "instance_id": "aaaa", "seq": 1, "function_name": "convert", "region": "eu-west-1",
                "mechanisms": ["no_new_privs": true, "landlock": false, "landlock_abi": 0],
                "controls": ["drift": "supervisor", "allowlist": "off"], "not_enforced": ["allowlist", "landlock"]]
            assertEqual(try await s.post([started], token: g.token).status, 202)
            assertEqual(try await s.post([sampleEvent(["function_name": "convert", "instance_id": "aaaa", "seq": 2, "account_id": "123456789012"])], token: g.token).status, 202)
            let r = try await s.json("GET", "/api/v1/enforcers")
            let fleet = try XCTUnwrap(r.object["enforcers"] as? [[String: Any]])
            XCTAssertEqual(fleet.count, 1, "\(fleet)")
            let f = fleet[0]
            XCTAssertEqual(f["function_name"] as? String, "convert")
            XCTAssertEqual(f["account_id"] as? String, "123456789012", "learnt from a later event")
            XCTAssertEqual(f["version"] as? String, "0.2.0")
            XCTAssertEqual(f["status"] as? String, "active")
            XCTAssertEqual(f["not_enforced"] as? [String], ["allowlist", "landlock"])
            XCTAssertEqual((f["mechanisms"] as? [String: Any])?["landlock"] as? Bool, false)
            XCTAssertEqual((f["instances"] as? [[String: Any]])?.first?["events"] as? Int, 2)
            assertEqual(try await s.json("GET", "/api/v1/enforcers?status=stale").object["enforcers"].map { ($0 as? [Any])?.count }, 0)
            assertEqual(try await s.json("GET", "/api/v1/enforcers?status=zombie").status, 400)
        }
    }
}
