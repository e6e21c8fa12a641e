import Foundation
import XCTest
@testable import KitsuneAWS
@testable import KitsuneServer

/// The reconciler against moto's Lambda: a policy scoped by a tag protects what is tagged and only
/// that, says per function what cannot be done, repairs drift, follows policy changes with a new
/// layer version (deleting the unused one), and cleanly unprotects what leaves the scope.
final class ReconcilerTests: XCTestCase {
    static let account = "123456789012"
    static let policy = """
        name: web-api
        mode: audit
        scope:
          tags: ["kitsune=enabled"]
        block: [xmrig*]
        """

    struct Fixture {
        let lambda: LambdaClient
        let deps: String
        func arn(_ name: String) -> String { "arn:aws:lambda:eu-west-1:\(ReconcilerTests.account):function:\(name)" }
        func config(_ name: String) async throws -> LambdaFunctionConfiguration { try await lambda.getFunctionConfiguration(name) }
    }

    func seed(_ moto: Moto) async throws -> Fixture {
        let client = moto.client()
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        let role = try await client.iam.createRole("exec-\(UUID().uuidString.prefix(6))", assumeRolePolicy: trust).arn
        let zip = TestZip.stored([("index.py", "def handler(e, c):\n    return 1\n")])
        let deps = try await client.lambda.publishLayerVersion("deps", zip: TestZip.stored([("python/d.py", "")])).layerVersionArn
        var fillers: [String] = []
        for i in 1...5 { fillers.append(try await client.lambda.publishLayerVersion("filler\(i)", zip: TestZip.stored([("f", "")])).layerVersionArn) }
        func make(_ name: String, _ runtime: String, layers: [String] = [], env: [String: String] = [:], tags: [String: String] = ["kitsune": "enabled"],
                  architectures: [String] = []) async throws {
            try await client.lambda.createFunction(LambdaCreateFunctionInput(name: name, runtime: runtime, role: role, handler: "index.handler", zip: zip,
                                                                             layers: layers, environment: env, tags: tags, architectures: architectures))
        }
        try await make("api", "python3.12", layers: [deps], env: ["TABLE": "orders"])
        try await make("worker", "nodejs20.x")
        try await make("custom", "provided.al2023")
        try await make("full", "python3.12", layers: fillers)
        try await make("untagged", "python3.12", env: ["KEEP": "me"], tags: ["team": "web"])
        try await make("graviton", "python3.12", architectures: ["arm64"])
        return Fixture(lambda: client.lambda, deps: deps)
    }

    func reconcile(_ server: TestServer) async throws -> [String: Any] {
        let r = try await server.json("POST", "/api/v1/reconcile")
        guard r.status == 200 else { throw TestFailure("reconcile answered \(r.status) \(r.object)") }
        return r.object
    }

    func outcomes(_ report: [String: Any]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (report["functions"] as? [[String: Any]] ?? []).compactMap { f in
            (f["name"] as? String).map { ($0, f["outcome"] as? String ?? "?") }
        })
    }

    func auditTexts(_ server: TestServer) async throws -> [String] {
        let r = try await server.json("GET", "/api/v1/audit?limit=200")
        return (r.object["entries"] as? [[String: Any]] ?? []).compactMap { $0["detail"] as? String }
    }

    func testAPolicyConvergesTheAccountAndFollowsEveryChange() async throws {
        let moto = try Moto()
        let calls = CallCounter()
        try await forEachBackend(connector: moto.connector(calls: calls), configure: {
            $0.publicURL = "https://kitsune.example.test"
            $0.backgroundReconcile = false
        }) { server in
            _ = try await TestHTTP.request("POST", moto.url + "/moto-api/reset")
            let aws = try await seed(moto)
            let added = try await server.json("POST", "/api/v1/accounts", body: ["account_id": Self.account, "regions": ["eu-west-1"]])
            XCTAssertEqual(added.status, 201, "\(added.object)")
            let policy = try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(Self.policy.utf8), contentType: "application/yaml")
            XCTAssertEqual(policy.status, 201)

            // 1. From nothing to protected.
            let first = try await reconcile(server)
            let o = outcomes(first)
            XCTAssertEqual(o["api"], "deployed", "\(first)")
            XCTAssertEqual(o["worker"], "deployed")
            XCTAssertEqual(o["custom"], "skipped")
            XCTAssertEqual(o["full"], "failed")
            XCTAssertEqual(o["untagged"], "unchanged")
            XCTAssertEqual(o["graviton"], "deployed")
            // arm64 gets the arm64 build, published as such (the layer is native code).
            let graviton = try await aws.config("graviton")
            let armLayer = try XCTUnwrap(graviton.layerARNs.first)
            XCTAssertTrue(armLayer.contains(":layer:kitsune-managed-arm64:"), armLayer)
            assertEqual(try await aws.lambda.getLayerVersion(arn: armLayer).compatibleArchitectures, ["arm64"])
            let api = try await aws.config("api")
            XCTAssertEqual(api.layerARNs.count, 2)
            XCTAssertEqual(api.layerARNs.first, aws.deps, "the function's own layer stays first")
            let managed = try XCTUnwrap(api.layerARNs.last)
            XCTAssertTrue(managed.contains(":layer:kitsune-managed-x86_64:"), managed)
            XCTAssertEqual(api.variables["TABLE"], "orders")
            XCTAssertEqual(api.variables["AWS_LAMBDA_EXEC_WRAPPER"], "/opt/kitsune/wrapper")
            XCTAssertEqual(api.variables["KITSUNE_EVENTS_URL"], "https://kitsune.example.test/api/v1/events")
            let worker = try await aws.config("worker")
            XCTAssertEqual(worker.layerARNs, [managed], "one layer version serves every function of one policy version and architecture")
            XCTAssertNotEqual(worker.variables["KITSUNE_EVENTS_TOKEN"], api.variables["KITSUNE_EVENTS_TOKEN"], "each function has its own token")
            // The token lets api post as api, and only as api.
            let token = try XCTUnwrap(api.variables["KITSUNE_EVENTS_TOKEN"])
            assertEqual(try await server.post([sampleEvent(["function_name": "api"])], token: token).status, 202)
            assertEqual(try await server.post([sampleEvent(["function_name": "worker"])], token: token).status, 400, "outside its scope")
            let untouched = try await aws.config("untagged")
            XCTAssertEqual(untouched.variables, ["KEEP": "me"])
            XCTAssertEqual(untouched.layerARNs, [])
            let audit = try await auditTexts(server)
            XCTAssertTrue(audit.contains { $0.hasPrefix("policy web-api v1: 3 functions successfully deployed, 1 skipped, 1 failed: full:") }, "\(audit)")
            let functions = try await server.json("GET", "/api/v1/functions?status=protected")
            XCTAssertEqual((functions.object["functions"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.sorted(), ["api", "graviton", "worker"])
            let fullRow = try await server.json("GET", "/api/v1/functions/\(InventoryFunction.id(arn: aws.arn("full")))")
            XCTAssertTrue(((fullRow.object["deployment"] as? [String: Any])?["detail"] as? String)?.contains("Lambda allows 5") == true, "\(fullRow.object)")
            let envNames = fullRow.object["environment_names"] as? [String]
            XCTAssertEqual(envNames, [], "names only, never values")

            // 2. Nothing to do: no update sent, the known failure not audited again.
            let before = calls.byTarget.filter { $0.key.hasPrefix("PUT") }.values.reduce(0, +)
            let second = try await reconcile(server)
            XCTAssertEqual(outcomes(second)["api"], "unchanged", "\(second)")
            XCTAssertEqual(calls.byTarget.filter { $0.key.hasPrefix("PUT") }.values.reduce(0, +), before, "no update when nothing changed")
            assertEqual(try await auditTexts(server).count, audit.count)

            // 3. Someone takes the layer off by hand: put back at the next pass, and audited.
            _ = try await aws.lambda.updateFunctionConfiguration("api", LambdaConfigurationUpdate(layers: [aws.deps]))
            let third = try await reconcile(server)
            XCTAssertEqual(outcomes(third)["api"], "repaired", "\(third)")
            assertEqual(try await aws.config("api").layerARNs, [aws.deps, managed])
            assertTrue(try await auditTexts(server).contains { $0.contains("repaired after drift: api") })

            // 4. A policy change: a new layer version everywhere, the unused one deleted.
            let edited = Self.policy.replacingOccurrences(of: "mode: audit", with: "mode: enforce")
            let put = try await server.request("PUT", "/api/v1/policies/web-api", token: server.admin, body: Data(edited.utf8), contentType: "application/yaml")
            XCTAssertEqual(put.status, 200)
            let fourth = try await reconcile(server)
            XCTAssertEqual(outcomes(fourth)["api"], "deployed", "\(fourth)")
            let apiNow = try await aws.config("api")
            let newLayer = try XCTUnwrap(apiNow.layerARNs.last)
            XCTAssertNotEqual(newLayer, managed)
            assertEqual(try await aws.config("worker").layerARNs, [newLayer])
            assertEqual(try await aws.config("api").variables["KITSUNE_EVENTS_TOKEN"], token, "a valid token is kept")
            let versions = try await aws.lambda.listLayerVersions("kitsune-managed-x86_64").map(\.layerVersionArn)
            XCTAssertEqual(versions, [newLayer], "the version no function uses any more is deleted")

            // 5. Untagged: everything Kitsune added is removed, nothing else; its token is revoked.
            let workerNow = try await aws.config("worker")
            let workerToken = try XCTUnwrap(workerNow.variables["KITSUNE_EVENTS_TOKEN"])
            try await aws.lambda.untagResource(aws.arn("worker"), keys: ["kitsune"])
            let fifth = try await reconcile(server)
            XCTAssertEqual(outcomes(fifth)["worker"], "removed", "\(fifth)")
            let cleaned = try await aws.config("worker")
            XCTAssertEqual(cleaned.layerARNs, [])
            XCTAssertEqual(cleaned.variables, [:])
            assertEqual(try await server.post([sampleEvent(["function_name": "worker"])], token: workerToken).status, 401)
            assertTrue(try await auditTexts(server).contains { $0.contains("out of scope, Kitsune removed: worker") })
            assertEqual(try await aws.config("untagged").variables, ["KEEP": "me"], "never touched")
        }
    }

    /// Nobody calls reconcile: the background job sees the new policy and protects the tagged
    /// function, then protects a function tagged later within the interval.
    func testTheBackgroundJobProtectsWithoutAnyCall() async throws {
        let moto = try Moto()
        let server = try await TestServer(.sqlite, connector: moto.connector()) {
            $0.publicURL = "https://k.test"
            $0.reconcileIntervalMs = 2_000
        }
        do {
            let aws = try await seed(moto)
            assertEqual(try await server.json("POST", "/api/v1/accounts", body: ["account_id": Self.account, "regions": ["eu-west-1"]]).status, 201)
            assertEqual(try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(Self.policy.utf8), contentType: "application/yaml").status, 201)
            func protected(_ name: String) async throws -> Bool {
                for _ in 0..<150 {
                    if try await aws.config(name).variables["AWS_LAMBDA_EXEC_WRAPPER"] != nil { return true }
                    try await Task.sleep(for: .milliseconds(200))
                }
                return false
            }
            assertTrue(try await protected("api"), "the policy reached api without a call")
            try await aws.lambda.tagResource(aws.arn("untagged"), tags: ["kitsune": "enabled"])
            assertTrue(try await protected("untagged"), "a function tagged later is protected at the next interval")
            assertEqual(try await aws.config("untagged").variables["KEEP"], "me")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// With `role_arn`, the server works through the role STS hands it (and `external_id`).
    func testAnAccountReachedThroughAnAssumedRole() async throws {
        let moto = try Moto()
        let server = try await TestServer(.sqlite, connector: moto.connector()) { $0.publicURL = "https://k.test"; $0.backgroundReconcile = false }
        do {
            let aws = try await seed(moto)
            let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#
            let role = try await moto.client().iam.createRole("kitsune-reconciler", assumeRolePolicy: trust).arn
            let added = try await server.json("POST", "/api/v1/accounts", body: ["account_id": Self.account, "regions": ["eu-west-1"], "role_arn": role, "external_id": "ext-123"])
            XCTAssertEqual(added.status, 201, "\(added.object)")
            XCTAssertEqual(added.object["external_id_set"] as? Bool, true)
            XCTAssertNil(added.object["external_id"], "the external id is not echoed")
            _ = try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(Self.policy.utf8), contentType: "application/yaml")
            let report = try await reconcile(server)
            XCTAssertEqual(outcomes(report)["api"], "deployed", "\(report)")
            XCTAssertEqual((report["account_errors"] as? [Any])?.count, 0)
            assertEqual(try await aws.config("api").variables["AWS_LAMBDA_EXEC_WRAPPER"], "/opt/kitsune/wrapper")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func testAnAccountWhoseCredentialsActElsewhereIsRefusedAndNothingIsTouched() async throws {
        let moto = try Moto()
        try await forEachBackend(connector: moto.connector(), configure: { $0.publicURL = "https://k.test"; $0.backgroundReconcile = false }) { server in
            let added = try await server.json("POST", "/api/v1/accounts", body: ["account_id": "210987654321", "regions": ["eu-west-1"]])
            XCTAssertEqual(added.status, 201)
            let report = try await reconcile(server)
            let errors = report["account_errors"] as? [[String: Any]] ?? []
            XCTAssertTrue((errors.first?["error"] as? String)?.contains("act in account 123456789012") == true, "\(report)")
            let accounts = try await server.json("GET", "/api/v1/accounts")
            XCTAssertNotNil((accounts.object["accounts"] as? [[String: Any]])?.first?["sync_error"] as? String)
            for (body, field) in [(["account_id": "12", "regions": ["eu-west-1"]], "account_id"), (["account_id": Self.account, "regions": ["mars-1"]], "regions[0]"),
                                  (["account_id": Self.account, "regions": ["eu-west-1"], "role_arn": "arn:aws:iam::1:user/x"], "role_arn")] as [([String: Any], String)] {
                let r = try await server.json("POST", "/api/v1/accounts", body: body)
                XCTAssertEqual(r.status, 400)
                XCTAssertEqual(r.object["field"] as? String, field)
            }
            let editor = try await server.store.createAPIToken(role: .editor, name: "e", actor: "t").text
            assertEqual(try await server.json("POST", "/api/v1/accounts", token: editor, body: ["account_id": Self.account, "regions": ["eu-west-1"]]).status, 403,
                           "connecting an account (write access to it) is for admins")
        }
    }
}

/// Zip archives for fixtures (stored entries).
enum TestZip {
    static func stored(_ files: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
        for (name, text) in files {
            let data = Array(text.utf8), nameBytes = Array(name.utf8)
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in data { crc ^= UInt32(byte); for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) } }
            crc ^= 0xFFFF_FFFF
            let offset = out.count
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc) + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(nameBytes.count)
            out += le32(0x0403_4B50) + common + le16(0) + nameBytes + data
            central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + nameBytes
        }
        let start = out.count
        out += central + le32(0x0605_4B50) + le16(0) + le16(0) + le16(files.count) + le16(files.count) + le32(UInt32(central.count)) + le32(UInt32(start)) + le16(0)
        return out
    }
}
