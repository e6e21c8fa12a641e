import Crypto
import Foundation
import XCTest
@testable import KitsuneAWS
@testable import KitsuneLambda
@testable import KitsuneServer

/// The layer the reconciler publishes is a real Kitsune layer: the reconciled function's own layer
/// (byte for byte what moto holds) and environment, run in the local emulator and attacked; its events
/// arrive in the server under that function's own token.
final class ReconciledLayerTests: XCTestCase {
    static let handler = """
        import subprocess

        def handler(event, context):
            p = subprocess.run("echo converting " + event["url"], shell=True, capture_output=True, text=True)
            return {"stdout": p.stdout, "code": p.returncode}
        """

    func testAReconciledFunctionsLayerReportsWithItsOwnToken() async throws {
        guard (try? PostgresCluster.execute(["/usr/bin/python3.11", "-c", "import awslambdaric"]))?.status == 0 else {
            throw TestFailure("awslambdaric is not importable by /usr/bin/python3.11 (scripts/setup installs it)")
        }
        let moto = try Moto()
        let server = try await TestServer(.sqlite, connector: moto.connector()) {
            $0.publicURL = "https://kitsune.example.test"
            $0.backgroundReconcile = false
        }
        do {
            try await run(server, moto)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func run(_ server: TestServer, _ moto: Moto) async throws {
        let aws = moto.client()
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        let role = try await aws.iam.createRole("exec", assumeRolePolicy: trust).arn
        try await aws.lambda.createFunction(LambdaCreateFunctionInput(name: "convert", runtime: "python3.11", role: role, handler: "app.handler",
                                                                      zip: TestZip.stored([("app.py", Self.handler)]), tags: ["kitsune": "enabled"]))
        assertEqual(try await server.json("POST", "/api/v1/accounts", body: ["account_id": "123456789012", "regions": ["eu-west-1"]]).status, 201)
        let policy = "name: web-api\nmode: enforce\nscope:\n  tags: [\"kitsune=enabled\"]\nblock: [xmrig*]\n"
        assertEqual(try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(policy.utf8), contentType: "application/yaml").status, 201)
        let pass = try await server.json("POST", "/api/v1/reconcile")
        XCTAssertEqual((pass.object["counts"] as? [String: Int])?["deployed"], 1, "\(pass.object)")

        // The layer: rebuilt from the same enforcer and policy version, it must be the very zip moto holds.
        let function = try await aws.lambda.getFunctionConfiguration("convert")
        let layerARN = try XCTUnwrap(function.layerARNs.first)
        let published = try await aws.lambda.getLayerVersion(arn: layerARN)
        let stored = try await server.store.policy("web-api")
        let content = try InstalledLayerSource().layer(for: try XCTUnwrap(stored).policy, architecture: "x86_64")
        XCTAssertEqual(Data(SHA256.hash(data: content.zip)).base64EncodedString(), published.content?.codeSha256, "the layer run here is the one published")
        let layer = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: layer) }
        try content.zip.write(to: URL(fileURLWithPath: layer + "/layer.zip"))
        _ = try PostgresCluster.run(["/usr/bin/python3", "-c", """
            import os, sys, zipfile
            z = zipfile.ZipFile(sys.argv[1] + "/layer.zip")
            for i in z.infolist():
                p = z.extract(i, sys.argv[1] + "/opt")
                os.chmod(p, (i.external_attr >> 16) & 0o777 or 0o644)
            """, layer])
        let code = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: code) }
        try Self.handler.write(toFile: code + "/app.py", atomically: true, encoding: .utf8)
        for dir in [code, layer] { _ = try PostgresCluster.execute(["/bin/chmod", "-R", "a+rX", dir]) }

        // The function's environment as the reconciler left it; only the URL points at this test server.
        var environment = function.variables
        XCTAssertEqual(environment["KITSUNE_EVENTS_URL"], "https://kitsune.example.test/api/v1/events")
        environment["KITSUNE_EVENTS_URL"] = server.base + "/api/v1/events"
        let lambda = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: URL(fileURLWithPath: code), handler: "app.handler", runtime: "python3.11", layers: [URL(fileURLWithPath: layer + "/opt")],
            timeoutSeconds: 10, memoryMB: 256, environment: environment, functionName: "convert", region: "eu-west-1", accountId: "123456789012"))
        defer { _ = lambda.shutdown() }
        let attack = lambda.invoke(InvocationRequest(payload: try JSONSerialization.data(withJSONObject: ["url": "x; cp /bin/true /tmp/m && /tmp/m #"])))
        var stored_: [[String: Any]] = []
        for _ in 0..<50 where !stored_.contains(where: { $0["action"] as? String == "blocked" }) {
            try await Task.sleep(for: .milliseconds(200))
            stored_ = try await server.events("request_id=\(attack.requestId)&limit=50")
        }
        let blocked = try XCTUnwrap(stored_.first { $0["action"] as? String == "blocked" }, "no blocked event arrived: \(attack.logs)")
        XCTAssertEqual(blocked["function_name"] as? String, "convert")
        XCTAssertEqual(blocked["account_id"] as? String, "123456789012")
        // Posted with the function's own token: the fleet row is in the account's group.
        let account = try await server.store.accounts().first
        let fleet = try await server.store.fleet(sinceMs: 0)
        XCTAssertEqual(fleet.first?.current.groupID, account?.groupID)
        XCTAssertEqual(fleet.first?.current.mode, "enforce")
    }
}
