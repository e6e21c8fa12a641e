import Foundation
import KitsuneLambda
import XCTest
@testable import KitsuneAWS
@testable import KitsuneServer

/// `kitsune agent --lambda` as the CloudFormation template runs it: a `provided.al2023` function whose
/// bootstrap starts the agent, here in the Lambda emulator (the real Runtime API). One invocation (the
/// schedule's event) is one pass: the tagged function is protected and the pass is the response.
final class AgentLambdaTests: XCTestCase {
    func testEachInvocationRunsOnePassAndAnswersWithIt() async throws {
        let moto = try Moto()
        let server = try await TestServer(.sqlite) { $0.publicURL = "https://kitsune.example.test"; $0.backgroundReconcile = false }
        let code = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: code) }
        do {
            let aws = moto.client()
            let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
            let role = try await aws.iam.createRole("exec-agent", assumeRolePolicy: trust).arn
            try await aws.lambda.createFunction(LambdaCreateFunctionInput(name: "api", runtime: "python3.12", role: role, handler: "index.handler",
                                                                          zip: TestZip.stored([("index.py", "def handler(e, c):\n    return 1\n")]),
                                                                          tags: ["kitsune": "enabled"]))
            let token = try await AgentTests.register(server)
            _ = try await server.request("POST", "/api/v1/policies", token: server.admin, body: Data(AgentTests.policy.utf8), contentType: "application/yaml")

            // The function's code, as the template ships it: the bootstrap, the kitsune binary and the
            // Swift runtime libraries (/opt is the layers' in Lambda; the host's /tmp is not visible).
            try "#!/bin/sh\nexec \"$LAMBDA_TASK_ROOT/kitsune\" agent --lambda\n".write(toFile: code + "/bootstrap", atomically: true, encoding: .utf8)
            // What an installation holds beside kitsune: the enforcer and shipper it builds layers from,
            // and its resource bundles.
            let built = URL(fileURLWithPath: ReliabilityTests.kitsune).deletingLastPathComponent().path
            let beside = try FileManager.default.contentsOfDirectory(atPath: built)
                .filter { ["kitsune", "kitsune-enforcer", "kitsune-ship"].contains($0) || ($0.hasSuffix(".resources") && !$0.hasSuffix("Tests.resources")) }
            for name in beside { try FileManager.default.copyItem(atPath: built + "/" + name, toPath: code + "/" + name) }
            try FileManager.default.createDirectory(atPath: code + "/lib", withIntermediateDirectories: true)
            let libraries = try PostgresCluster.execute(["/usr/bin/ldd", ReliabilityTests.kitsune]).output
            for line in libraries.split(separator: "\n") {
                guard let path = line.split(separator: " ").first(where: { $0.hasPrefix("/opt/") }) else { continue }
                try FileManager.default.copyItem(atPath: String(path), toPath: code + "/lib/" + URL(fileURLWithPath: String(path)).lastPathComponent)
            }
            _ = try PostgresCluster.execute(["/bin/chmod", "-R", "a+rX", code])
            _ = try PostgresCluster.execute(["/bin/chmod", "a+x", code + "/bootstrap"])

            let configuration = EmulatorConfiguration(
                code: URL(fileURLWithPath: code), handler: "bootstrap", runtime: "provided.al2023", timeoutSeconds: 120, memoryMB: 512,
                environment: ["KITSUNE_SERVER": server.base, "KITSUNE_TOKEN": token, "AWS_ENDPOINT_URL": moto.url, "AWS_CONFIG_FILE": code + "/none",
                              "AWS_SHARED_CREDENTIALS_FILE": code + "/none"],
                functionName: "kitsune-agent", region: "eu-west-1", accountId: AgentTests.account, initTimeoutSeconds: 30)
            let event = Data(#"{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}"#.utf8)
            // The emulator blocks its thread: off the pool the in-process server answers on.
            let results = try await offPool {
                let emulator = try LambdaEmulator(configuration: configuration)
                defer { _ = emulator.shutdown() }
                return emulator.invoke(events: [event, event])
            }
            XCTAssertEqual(results.map(\.status), [.success, .success], results.map(\.logs).joined(separator: "\n"))
            XCTAssertTrue(results[0].payloadText.contains(#""outcome":"deployed""#), results[0].payloadText)
            XCTAssertTrue(results[1].payloadText.contains(#""outcome":"unchanged""#), results[1].payloadText)
            let api = try await aws.lambda.getFunctionConfiguration("api")
            XCTAssertEqual(api.variables["AWS_LAMBDA_EXEC_WRAPPER"], "/opt/kitsune/wrapper")
            XCTAssertTrue(api.layerARNs.last?.contains(":layer:kitsune-managed-x86_64:") == true, "\(api.layerARNs)")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
