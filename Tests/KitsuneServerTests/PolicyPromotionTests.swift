import Foundation
import XCTest
@testable import KitsuneServer

/// `promote_after: Nd`: an audit policy is promoted to enforce after N days in force without a
/// violation on the functions it protects — not before, and not with one.
final class PolicyPromotionTests: XCTestCase {
    static let account = "123456789012"

    func testAQuietAuditPolicyIsPromotedAndANoisyOneIsNot() async throws {
        let server = try await TestServer(.sqlite) { $0.backgroundReconcile = false }
        do {
            for (name, scope) in [("quiet", "tags: [\"kitsune=enabled\"]"), ("noisy", "functions: [\"noisy-*\"]")] {
                let yaml = "name: \(name)\nmode: audit   # for now\npromote_after: 14d\nscope:\n  \(scope)\nblock: [xmrig*]\n"
                assertEqual(try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(yaml.utf8), contentType: "application/yaml").status, 201)
            }
            let store = server.store
            let quietRead = try await store.policy("quiet"), noisyRead = try await store.policy("noisy")
            let quiet = try XCTUnwrap(quietRead), noisy = try XCTUnwrap(noisyRead)
            XCTAssertEqual(quiet.policy.promoteAfterDays, 14)
            assertEqual(try await server.json("GET", "/api/v1/policies/quiet").object["promote_after"] as? String, "14d")
            _ = try await store.addAccount(AWSAccountRecord(accountID: Self.account, regions: ["eu-west-1"], createdMs: 0), actor: "test")
            func function(_ name: String) -> InventoryFunction {
                InventoryFunction(arn: "arn:aws:lambda:eu-west-1:\(Self.account):function:\(name)", accountID: Self.account, region: "eu-west-1", name: name,
                                  runtime: "python3.12", architecture: "x86_64", packageType: "Zip", tags: [:], layers: [], role: nil,
                                  environmentNames: [], updateStatus: nil, syncedMs: 1)
            }
            try await store.syncInventory(account: Self.account, region: "eu-west-1", functions: [function("api"), function("noisy-1")])
            for (name, policy) in [("api", quiet), ("noisy-1", noisy)] {
                try await store.setDeployment(arn: function(name).arn, Deployment(policyID: policy.id, policyVersion: policy.version, status: .protected))
            }
            // One violation on noisy-1 (and an old one on api, from before the version was saved).
            let group = try await server.group()
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let now = formatter.string(from: Date())
            let posted = try await server.post([sampleEvent(["function_name": "noisy-1", "mode": "audit", "action": "reported", "time": now]),
                                                sampleEvent(["function_name": "api", "mode": "audit", "action": "reported", "time": "2026-01-01T00:00:00.000Z"])],
                                               token: group.token)
            XCTAssertEqual(posted.status, 202, "\(posted.object)")

            let promotion = PolicyPromotion(store: store)
            let early = try await promotion.promoteDue(nowMs: Timestamps.nowMs() + 13 * 86_400_000, actor: "reconciler")
            XCTAssertEqual(early.map(\.policy.name), [], "not before 14 days")
            let due = try await promotion.promoteDue(nowMs: Timestamps.nowMs() + 15 * 86_400_000, actor: "reconciler")
            XCTAssertEqual(due.map(\.policy.name), ["quiet"], "the noisy one had a violation")
            let promotedRead = try await store.policy("quiet")
            let promoted = try XCTUnwrap(promotedRead)
            XCTAssertEqual(promoted.version, 2)
            XCTAssertEqual(promoted.policy.mode, .enforce)
            XCTAssertNil(promoted.policy.promoteAfterDays)
            XCTAssertEqual(promoted.policy.document, "name: quiet\nmode: enforce\nscope:\n  tags: [\"kitsune=enabled\"]\nblock: [xmrig*]\n")
            assertEqual(try await store.policy("noisy")?.policy.mode, .audit)
            let audit = try await server.json("GET", "/api/v1/audit?limit=50")
            let entries = audit.object["entries"] as? [[String: Any]] ?? []
            XCTAssertTrue(entries.contains { $0["action"] as? String == "policy.promote"
                && ($0["detail"] as? String)?.contains("policy quiet v2: promoted to enforce after 14 days in audit without violations on 1 function") == true }, "\(entries)")
            let again = try await promotion.promoteDue(nowMs: Timestamps.nowMs() + 30 * 86_400_000, actor: "reconciler")
            XCTAssertEqual(again.map(\.policy.name), [], "once")

            // A mistake in the field is a 400 naming it.
            for (yaml, why) in [("name: x\nmode: audit\npromote_after: 2w\nscope:\n  functions: [\"*\"]\n", "not days"),
                                ("name: x\nmode: enforce\npromote_after: 14d\nscope:\n  functions: [\"*\"]\n", "not an audit policy")] {
                let r = try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(yaml.utf8), contentType: "application/yaml")
                XCTAssertEqual(r.status, 400, why)
                let object = (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] ?? [:]
                XCTAssertEqual(object["field"] as? String, "promote_after", "\(why): \(object)")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
