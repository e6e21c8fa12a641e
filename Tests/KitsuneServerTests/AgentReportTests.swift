import Foundation
import XCTest
@testable import KitsuneServer

/// A valid agent report (as JSON objects), for tests to break one field at a time.
enum AgentReportFixture {
    static func valid(account: String = AgentTests.account) -> [String: Any] {
        let arn = "arn:aws:lambda:eu-west-1:\(account):function:api"
        return [
            "account_id": account, "started_ms": 1000, "finished_ms": 2000, "aws_calls": 4,
            "regions": [["region": "eu-west-1"]],
            "functions": [[
                "arn": arn, "region": "eu-west-1", "name": "api", "runtime": "python3.12", "architecture": "x86_64", "package_type": "Zip",
                "tags": ["kitsune": "enabled"], "layers": [] as [String], "role": "arn:aws:iam::\(account):role/exec", "environment_names": ["TABLE"],
                "update_status": "Successful",
                "deployment": ["status": "unprotected", "detail": ""],
            ] as [String: Any]],
            "outcomes": [["arn": arn, "name": "api", "region": "eu-west-1", "outcome": "unchanged", "detail": "", "repeated": false] as [String: Any]],
            "layer_versions": [] as [Any],
        ]
    }
}

/// Reports are hostile input: each broken field is a 4xx naming it, and nothing is half-written.
final class AgentReportTests: XCTestCase {
    func testHostileReportsAreRefusedByFieldAndNothingIsWritten() async throws {
        let server = try await TestServer(.sqlite) { $0.backgroundReconcile = false }
        do {
            let token = try await AgentTests.register(server)
            func function(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
                var report = AgentReportFixture.valid()
                var functions = report["functions"] as! [[String: Any]]
                change(&functions[0])
                report["functions"] = functions
                return report
            }
            func deployment(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
                function { f in var d = f["deployment"] as! [String: Any]; change(&d); f["deployment"] = d }
            }
            var missing = AgentReportFixture.valid(); missing["account_id"] = nil
            var badRegion = AgentReportFixture.valid(); badRegion["regions"] = [["region": "us-east-1"]]
            var notArray = AgentReportFixture.valid(); notArray["functions"] = "all of them"
            var badOutcome = AgentReportFixture.valid()
            badOutcome["outcomes"] = [["arn": "arn:aws:lambda:eu-west-1:\(AgentTests.account):function:api", "name": "api", "region": "eu-west-1",
                                       "outcome": "pwned", "detail": "", "repeated": false] as [String: Any]]
            var badLayer = AgentReportFixture.valid()
            badLayer["layer_versions"] = [["key": "../../etc", "region": "eu-west-1", "arn": "arn:aws:lambda:eu-west-1:\(AgentTests.account):layer:x:1", "architecture": "x86_64"]]
            var twice = AgentReportFixture.valid(); twice["functions"] = (twice["functions"] as! [Any]) + (twice["functions"] as! [Any])
            let cases: [(String, [String: Any], Int, String)] = [
                ("no account", missing, 400, "account_id"),
                ("a region not registered", badRegion, 400, "regions[0].region"),
                ("functions not an array", notArray, 400, "functions"),
                ("another account's function", function { $0["arn"] = "arn:aws:lambda:eu-west-1:999999999999:function:api" }, 403, "functions[0].arn"),
                ("not an ARN", function { $0["arn"] = "'; DROP TABLE functions; --" }, 400, "functions[0].arn"),
                ("name disagreeing with the ARN", function { $0["name"] = "other" }, 400, "functions[0].name"),
                ("a variable's value", function { $0["environment_names"] = ["TABLE=orders"] }, 400, "functions[0].environment_names[0]"),
                ("a huge tag", function { $0["tags"] = ["k": String(repeating: "v", count: 300)] }, 400, "functions[0].tags"),
                ("an integer for a string", function { $0["runtime"] = 12 }, 400, "functions[0].runtime"),
                ("an unknown architecture", function { $0["architecture"] = "sparc" }, 400, "functions[0].architecture"),
                ("a made-up status", deployment { $0["status"] = "hacked" }, 400, "functions[0].deployment.status"),
                ("a token not of this account", deployment { $0["token_id"] = "0123456789abcdef" }, 400, "functions[0].deployment.token_id"),
                ("another account's layer", deployment { $0["layer_arn"] = "arn:aws:lambda:eu-west-1:999999999999:layer:evil:1" }, 403, "functions[0].deployment.layer_arn"),
                ("a long detail", deployment { $0["detail"] = String(repeating: "x", count: 5000) }, 400, "functions[0].deployment.detail"),
                ("a made-up outcome", badOutcome, 400, "outcomes[0].outcome"),
                ("a bad layer key", badLayer, 400, "layer_versions[0].key"),
                ("a function twice", twice, 400, "functions[1].arn"),
            ]
            for (why, body, status, field) in cases {
                let r = try await server.json("POST", "/api/v1/agent/report", token: token, body: body)
                XCTAssertEqual(r.status, status, "\(why): \(r.object)")
                XCTAssertEqual(r.object["field"] as? String, field, "\(why): \(r.object)")
            }
            let notJSON = try await server.request("POST", "/api/v1/agent/report", token: token, body: Data("{\"account_id\": ".utf8))
            XCTAssertEqual(notJSON.status, 400)
            let functions = try await server.json("GET", "/api/v1/functions")
            XCTAssertEqual((functions.object["functions"] as? [Any])?.count, 0, "nothing of a refused report is written")
            // The valid one is stored.
            assertEqual(try await server.json("POST", "/api/v1/agent/report", token: token, body: AgentReportFixture.valid()).status, 200)
            let stored = try await server.json("GET", "/api/v1/functions")
            XCTAssertEqual((stored.object["functions"] as? [[String: Any]])?.first?["environment_names"] as? [String], ["TABLE"])
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// `kitsune agent` refuses bad options with a message naming the option, exit 2, before any call.
    func testAgentCommandRefusesBadOptions() throws {
        let token = "kit_" + String(repeating: "a", count: 16) + "_" + String(repeating: "b", count: 64)
        let cases: [([String], String)] = [
            (["agent", "--token", token], "--server"),
            (["agent", "--server", "ftp://x", "--token", token], "--server"),
            (["agent", "--server", "http://127.0.0.1:9", "--token", "secret"], "--token: not a Kitsune token"),
            (["agent", "--server", "http://127.0.0.1:9", "--token", token, "--interval", "soon"], "--interval soon"),
            (["agent", "--server", "http://127.0.0.1:9", "--token", token, "--regions", "eu-west-1,mars-1"], "--regions: 'mars-1'"),
            (["agent", "--server", "http://127.0.0.1:9", "--token", token, "--once", "--lambda"], "exclude each other"),
            (["agent", "--server", "http://127.0.0.1:9", "--token", token, "--lambda"], "AWS_LAMBDA_RUNTIME_API"),
        ]
        for (args, expected) in cases {
            let run = try PostgresCluster.execute(["/usr/bin/env", "-u", "KITSUNE_SERVER", "-u", "KITSUNE_TOKEN", "-u", "AWS_LAMBDA_RUNTIME_API", ReliabilityTests.kitsune] + args)
            XCTAssertEqual(run.status, 2, "\(args): \(run.output)")
            XCTAssertTrue(run.output.contains(expected), "\(args): \(run.output)")
        }
        // A server that does not answer: one pass fails, exit 1, saying why.
        let down = try PostgresCluster.execute(["/usr/bin/env", ReliabilityTests.kitsune, "agent", "--server", "http://127.0.0.1:9", "--token", token, "--once"])
        XCTAssertEqual(down.status, 1, down.output)
        XCTAssertTrue(down.output.contains("pulling the desired state: cannot reach http://127.0.0.1:9"), down.output)
    }
}
