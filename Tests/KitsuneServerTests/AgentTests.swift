import Foundation
import XCTest
@testable import KitsuneAWS
@testable import KitsuneServer

/// The in-account agent against moto's Lambda and a real server: an agent-mode account converges with
/// the agent's own credentials (the real `kitsune agent --once`, then the agent type in-process),
/// untagged functions are cleaned, the server makes zero AWS calls and shows the agent's inventory
/// like its own; agent tokens are confined to their account.
final class AgentTests: XCTestCase {
    static let account = "123456789012"
    static let policy = "name: web-api\nmode: audit\nscope:\n  tags: [\"kitsune=enabled\"]\nblock: [xmrig*]\n"

    /// Registers `account` in agent mode; its agent token.
    static func register(_ server: TestServer, account: String = AgentTests.account) async throws -> String {
        let r = try await server.json("POST", "/api/v1/accounts", body: ["account_id": account, "regions": ["eu-west-1"], "mode": "agent"])
        guard r.status == 201, r.object["mode"] as? String == "agent", let token = r.object["agent_token"] as? String else {
            throw TestFailure("registering an agent account answered \(r.status) \(r.object)")
        }
        return token
    }

    /// The agent type in-process, reaching AWS at moto.
    static func agent(_ server: TestServer, token: String, moto: Moto) -> InAccountAgent {
        let motoURL = moto.url
        return InAccountAgent(client: AgentClient(server: URL(string: server.base)!, token: token)) { region, transport in
            AWSClient(region: region, credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKIAKITSUNETEST00001", secretAccessKey: "test")),
                      endpoints: EndpointResolver(globalOverride: motoURL), transport: transport, retry: RetryPolicy(maxAttempts: 4, baseDelay: 0.005, maxDelay: 0.02))
        }
    }

    func outcomes(_ report: ReconcileReport) -> [String: String] {
        Dictionary(uniqueKeysWithValues: report.items.map { ($0.name, $0.outcome.rawValue) })
    }

    func testAnAgentAccountConvergesWithTheAgentsCredentialsAndTheServerNeverCallsAWS() async throws {
        let moto = try Moto()
        let serverCalls = CallCounter()
        try await forEachBackend(connector: moto.connector(calls: serverCalls), configure: {
            $0.publicURL = "https://kitsune.example.test"
            $0.backgroundReconcile = false
        }) { server in
            _ = try await TestHTTP.request("POST", moto.url + "/moto-api/reset")
            let aws = moto.client()
            let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
            let role = try await aws.iam.createRole("exec-\(UUID().uuidString.prefix(6))", assumeRolePolicy: trust).arn
            let zip = TestZip.stored([("index.py", "def handler(e, c):\n    return 1\n")])
            for (name, runtime, tags, env) in [("api", "python3.12", ["kitsune": "enabled"], ["TABLE": "orders"]), ("worker", "nodejs20.x", ["kitsune": "enabled"], [:]),
                                               ("untagged", "python3.12", ["team": "web"], ["KEEP": "me"])] {
                try await aws.lambda.createFunction(LambdaCreateFunctionInput(name: name, runtime: runtime, role: role, handler: "index.handler", zip: zip,
                                                                              environment: env, tags: tags))
            }
            let token = try await Self.register(server)
            let saved = try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(Self.policy.utf8), contentType: "application/yaml")
            XCTAssertEqual(saved.status, 201)

            // The server's own pass leaves an agent-mode account alone: not one AWS call.
            let own = try await server.json("POST", "/api/v1/reconcile")
            XCTAssertEqual(own.status, 200)
            XCTAssertEqual((own.object["functions"] as? [Any])?.count, 0, "\(own.object)")

            // 1. The real binary, one pass, with the account's credentials from the environment.
            let env = ["KITSUNE_TOKEN=\(token)", "AWS_ENDPOINT_URL=\(moto.url)", "AWS_ACCESS_KEY_ID=AKIAKITSUNETEST00001", "AWS_SECRET_ACCESS_KEY=test",
                       "AWS_REGION=eu-west-1", "AWS_CONFIG_FILE=\(server.directory)/none", "AWS_SHARED_CREDENTIALS_FILE=\(server.directory)/none"]
            let run = try await offPool { try PostgresCluster.execute(["/usr/bin/env"] + env + [ReliabilityTests.kitsune, "agent", "--server", server.base, "--once"]) }
            XCTAssertEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains("\"outcome\":\"deployed\""), run.output)

            let api = try await aws.lambda.getFunctionConfiguration("api")
            let managed = try XCTUnwrap(api.layerARNs.last)
            XCTAssertTrue(managed.contains(":layer:kitsune-managed-x86_64:"), managed)
            XCTAssertEqual(api.variables["TABLE"], "orders")
            XCTAssertEqual(api.variables["AWS_LAMBDA_EXEC_WRAPPER"], "/opt/kitsune/wrapper")
            XCTAssertEqual(api.variables["KITSUNE_EVENTS_URL"], "https://kitsune.example.test/api/v1/events")
            let worker = try await aws.lambda.getFunctionConfiguration("worker")
            XCTAssertEqual(worker.layerARNs, [managed], "one content-addressed layer version for both")
            let untagged = try await aws.lambda.getFunctionConfiguration("untagged")
            XCTAssertEqual(untagged.variables, ["KEEP": "me"])
            XCTAssertEqual(untagged.layerARNs, [])
            // The function's token (issued by the server, for that function only) posts events.
            let apiToken = try XCTUnwrap(api.variables["KITSUNE_EVENTS_TOKEN"])
            assertEqual(try await server.post([sampleEvent(["function_name": "api"])], token: apiToken).status, 202)
            assertEqual(try await server.post([sampleEvent(["function_name": "worker"])], token: apiToken).status, 400, "outside its scope")

            // The server shows the agent's inventory like its own sync's (names of variables only).
            let functions = try await server.json("GET", "/api/v1/functions?status=protected")
            let rows = functions.object["functions"] as? [[String: Any]] ?? []
            XCTAssertEqual(rows.compactMap { $0["name"] as? String }.sorted(), ["api", "worker"], "\(functions.object)")
            let apiRow = try XCTUnwrap(rows.first { $0["name"] as? String == "api" })
            // As listed at the start of the pass, as the server's own sync records them.
            XCTAssertEqual(apiRow["environment_names"] as? [String], ["TABLE"])
            XCTAssertFalse(String(decoding: try JSONSerialization.data(withJSONObject: functions.object), as: UTF8.self).contains("orders"), "never a value")
            XCTAssertEqual((apiRow["deployment"] as? [String: Any])?["policy"] as? String, "web-api")
            let all = try await server.json("GET", "/api/v1/functions")
            XCTAssertEqual((all.object["functions"] as? [Any])?.count, 3)
            let audit = try await server.json("GET", "/api/v1/audit?limit=100")
            let entries = audit.object["entries"] as? [[String: Any]] ?? []
            XCTAssertTrue(entries.contains { ($0["detail"] as? String)?.hasPrefix("policy web-api v1: 2 functions successfully deployed") == true
                && $0["actor"] as? String == "agent:\(Self.account)" }, "\(entries)")

            // 2. In-process, from nothing kept: the state comes from the server, so nothing changes.
            let agent = Self.agent(server, token: token, moto: moto)
            let second = try await agent.runOnce()
            XCTAssertFalse(second.failed)
            XCTAssertEqual(outcomes(second.report), ["api": "unchanged", "worker": "unchanged", "untagged": "unchanged"], "\(second.json)")
            assertEqual(try await aws.lambda.getFunctionConfiguration("api").variables["KITSUNE_EVENTS_TOKEN"], apiToken, "the token is kept")

            // 3. Drift and untagging: repaired, and cleanly removed (its token revoked).
            _ = try await aws.lambda.updateFunctionConfiguration("worker", LambdaConfigurationUpdate(layers: []))
            try await aws.lambda.untagResource(api.functionArn, keys: ["kitsune"])
            let third = try await agent.runOnce()
            XCTAssertEqual(outcomes(third.report)["api"], "removed", "\(third.json)")
            XCTAssertEqual(outcomes(third.report)["worker"], "repaired")
            let cleaned = try await aws.lambda.getFunctionConfiguration("api")
            XCTAssertEqual(cleaned.variables, ["TABLE": "orders"])
            XCTAssertEqual(cleaned.layerARNs, [])
            assertEqual(try await server.post([sampleEvent(["function_name": "api"])], token: apiToken).status, 401, "its token is revoked")
            let unprotected = try await server.json("GET", "/api/v1/functions/\(InventoryFunction.id(arn: api.functionArn))")
            XCTAssertEqual((unprotected.object["deployment"] as? [String: Any])?["status"] as? String, "unprotected")

            XCTAssertEqual(serverCalls.total, 0, "the server never called AWS: \(serverCalls.byTarget)")
        }
    }

    /// Credentials that act in another account than the agent's are refused: nothing is touched, the
    /// pass fails and the server records why.
    func testAnAgentWhoseCredentialsActElsewhereTouchesNothing() async throws {
        let moto = try Moto()
        let server = try await TestServer(.sqlite) { $0.publicURL = "https://kitsune.example.test"; $0.backgroundReconcile = false }
        do {
            let token = try await Self.register(server, account: "210987654321")    // moto's credentials act in 123456789012
            let result = try await Self.agent(server, token: token, moto: moto).runOnce()
            XCTAssertTrue(result.failed)
            XCTAssertTrue(result.report.failures.first?.error.contains("act in account 123456789012") == true, result.json)
            XCTAssertEqual(result.report.items.count, 0)
            let accounts = try await server.json("GET", "/api/v1/accounts")
            let row = (accounts.object["accounts"] as? [[String: Any]])?.first
            XCTAssertTrue((row?["sync_error"] as? String)?.contains("refusing to touch it") == true, "\(accounts.object)")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// An agent token only reaches the agent routes, for its own account; everything else is 403.
    func testAgentTokensAreConfinedToTheirAccount() async throws {
        let server = try await TestServer(.sqlite) { $0.publicURL = "https://kitsune.example.test"; $0.backgroundReconcile = false }
        do {
            let a = try await Self.register(server)
            let b = try await Self.register(server, account: "210987654321")
            let group = try await server.group()
            for (token, why) in [(server.admin, "an admin token"), (group.token, "an enforcer group's token")] {
                let r = try await server.json("GET", "/api/v1/agent/desired-state", token: token)
                XCTAssertEqual(r.status, 403, "\(why): \(r.object)")
            }
            assertEqual(try await server.json("GET", "/api/v1/functions", token: a).status, 403, "an agent token has no API role")
            assertEqual(try await server.post([sampleEvent()], token: a).status, 403, "nor does it post events")
            assertEqual(try await DashboardSessionTests.login(server, a).status, 401, "nor log in to the dashboard")
            for (name, accounts) in [("mine", "[\"1234*\"]"), ("theirs", "[\"210987654321\"]")] {
                let yaml = "name: \(name)\nmode: audit\nscope:\n  accounts: \(accounts)\n"
                assertEqual(try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(yaml.utf8), contentType: "application/yaml").status, 201)
            }
            let desired = try await server.request("GET", "/api/v1/agent/desired-state", token: a)
            XCTAssertEqual(desired.status, 200)
            let state = try AgentJSON.decoder().decode(AgentDesiredState.self, from: desired.body)
            XCTAssertEqual(state.policies.map(\.name), ["mine"], "an agent learns nothing of policies for other accounts")
            XCTAssertTrue(state.policies[0].document.contains("1234*"))
            XCTAssertEqual(state.account.accountId, Self.account)
            XCTAssertEqual(state.eventsUrl, "https://kitsune.example.test/api/v1/events")
            let etag = try XCTUnwrap(desired.headers["etag"])
            let again = try await TestHTTP.request("GET", server.base + "/api/v1/agent/desired-state", token: a, headers: ["If-None-Match": etag])
            XCTAssertEqual(again.status, 304)

            let other = try await server.json("POST", "/api/v1/agent/function-tokens", token: a, body: ["function_arn": "arn:aws:lambda:eu-west-1:210987654321:function:api"])
            XCTAssertEqual(other.status, 403)
            XCTAssertEqual(other.object["field"] as? String, "function_arn")
            let bToken = try await server.json("POST", "/api/v1/agent/function-tokens", token: b, body: ["function_arn": "arn:aws:lambda:eu-west-1:210987654321:function:api"])
            XCTAssertEqual(bToken.status, 201)
            let bID = try XCTUnwrap(bToken.object["id"] as? String)
            assertEqual(try await server.request("DELETE", "/api/v1/agent/function-tokens/\(bID)", token: a).status, 404, "not A's to revoke")
            var report = AgentReportFixture.valid(account: "210987654321")
            let wrong = try await server.json("POST", "/api/v1/agent/report", token: a, body: report)
            XCTAssertEqual(wrong.status, 403)
            XCTAssertEqual(wrong.object["field"] as? String, "account_id")
            report = AgentReportFixture.valid(account: "210987654321")
            assertEqual(try await server.json("POST", "/api/v1/agent/report", token: b, body: report).status, 200)

            // Admins rotate an agent's token; the old one stops at once. Nobody mints agent tokens otherwise.
            let rotated = try await server.json("POST", "/api/v1/accounts/\(Self.account)/agent-token")
            XCTAssertEqual(rotated.status, 201)
            assertEqual(try await server.request("GET", "/api/v1/agent/desired-state", token: a).status, 401)
            let fresh = try XCTUnwrap(rotated.object["agent_token"] as? String)
            assertEqual(try await server.request("GET", "/api/v1/agent/desired-state", token: fresh).status, 200)
            assertEqual(try await server.json("POST", "/api/v1/tokens", body: ["role": "agent", "name": "x"]).status, 400)
            let withRole = try await server.json("POST", "/api/v1/accounts", body: ["account_id": "111111111111", "regions": ["eu-west-1"], "mode": "agent",
                                                                                    "role_arn": "arn:aws:iam::111111111111:role/x"])
            XCTAssertEqual(withRole.object["field"] as? String, "role_arn")
            let badMode = try await server.json("POST", "/api/v1/accounts", body: ["account_id": "111111111111", "regions": ["eu-west-1"], "mode": "remote"])
            XCTAssertEqual(badMode.status, 400)
            XCTAssertEqual(badMode.object["field"] as? String, "mode")
            // Disconnecting the account kills its agent's token.
            assertEqual(try await server.request("DELETE", "/api/v1/accounts/\(Self.account)", token: server.admin).status, 204)
            assertEqual(try await server.request("GET", "/api/v1/agent/desired-state", token: fresh).status, 401)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

/// Runs blocking work (a subprocess) off the cooperative pool, which the in-process server needs.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
