import Foundation
import XCTest
@testable import KitsuneAWS

/// The `kitsune deploy` and `kitsune honeytoken` commands as users run them (real binary, real
/// moto), checking output and exit codes.
final class CLITests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// The `kitsune` executable built next to the test bundle.
    private func binary() throws -> String {
        let buildDir = Bundle.module.bundleURL.deletingLastPathComponent()
        let path = buildDir.appendingPathComponent("kitsune").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("kitsune executable not found at \(path); build it first (swift build)")
        }
        return path
    }

    private func run(_ arguments: [String], moto: ServerProcess) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": dir, "AWS_ENDPOINT_URL": moto.url, "AWS_REGION": "us-east-1",
                               "AWS_ACCESS_KEY_ID": "AKIAKITSUNECLI000001", "AWS_SECRET_ACCESS_KEY": "cli-secret",
                               "AWS_EC2_METADATA_DISABLED": "true"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func testDeployCommandExitCodesAndReport() async throws {
        let moto = try TestServers.freshMoto()
        let client = TestServers.client(moto)
        let role = try await LambdaFixture.role(client)
        let layer = try await client.lambda.publishLayerVersion("kitsune", zip: TestZip.make([("kitsune/wrapper", "#!/bin/sh\n")]))
        for (name, runtime) in [("api", "python3.12"), ("edge", "provided.al2023")] {
            try await client.lambda.createFunction(LambdaCreateFunctionInput(
                name: name, runtime: runtime, role: role, handler: "index.handler", zip: LambdaFixture.handlerZip,
                tags: ["kitsune": "on"]))
        }
        let base = ["deploy", "--layer-arn", layer.layerVersionArn, "--select", "tag:kitsune=on"]
        let dry = try run(base + ["--dry-run"], moto: moto)
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertTrue(dry.out.contains("would-change api"), dry.out)
        XCTAssertTrue(dry.out.contains("kitsune protect"), dry.out)
        let applied = try run(base + ["--format", "json"], moto: moto)
        XCTAssertEqual(applied.status, 0, applied.err)
        let report = try JSONDecoder().decode(DeployReport.self, from: Data(applied.out.utf8))
        XCTAssertEqual(report.count(.changed), 1)
        XCTAssertEqual(report.count(.skipped), 1)
        let badARN = try run(["deploy", "--layer-arn", "arn:aws:lambda:us-east-1:123456789012:layer:kitsune",
                              "--select", "tag:kitsune=on"], moto: moto)
        XCTAssertEqual(badARN.status, 2)
        XCTAssertTrue(badARN.err.contains("has no version"), badARN.err)
        let noSelector = try run(["deploy", "--layer-arn", layer.layerVersionArn], moto: moto)
        XCTAssertEqual(noSelector.status, 2)
        XCTAssertTrue(noSelector.err.contains("--select"), noSelector.err)
    }

    func testHoneytokenCreateAndCheckCommands() throws {
        let moto = try TestServers.freshMoto()
        let store = dir + "/tokens.json"
        let created = try run(["honeytoken", "create", "bait-cli", "--store", store], moto: moto)
        XCTAssertEqual(created.status, 0, created.err)
        let tokens = try HoneytokenStore(path: store).load()
        let token = try XCTUnwrap(tokens.first)
        XCTAssertTrue(created.out.contains(token.accessKeyID), created.out)
        XCTAssertFalse(created.out.contains(token.secretAccessKey), "secret printed without --show-secret")

        let clean = dir + "/clean.json"
        try Data(#"{"Records":[]}"#.utf8).write(to: URL(fileURLWithPath: clean))
        let quiet = try run(["honeytoken", "check", "--cloudtrail", clean, "--store", store], moto: moto)
        XCTAssertEqual(quiet.status, 0, quiet.out + quiet.err)

        let used = dir + "/used.json"
        let record: [String: Any] = ["eventTime": "2026-11-21T01:02:03Z", "eventSource": "iam.amazonaws.com",
                                     "eventName": "ListUsers", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.44",
                                     "userAgent": "Boto3/1.34", "errorCode": "AccessDenied",
                                     "userIdentity": ["type": "IAMUser", "accessKeyId": token.accessKeyID, "arn": token.userARN]]
        try JSONSerialization.data(withJSONObject: ["Records": [record]]).write(to: URL(fileURLWithPath: used))
        let alert = try run(["honeytoken", "check", "--cloudtrail", used, "--store", store], moto: moto)
        XCTAssertEqual(alert.status, 1)
        XCTAssertTrue(alert.out.contains("ALERT honeytoken bait-cli") && alert.out.contains("192.0.2.44")
                      && alert.out.contains("Boto3/1.34") && alert.out.contains("ListUsers"), alert.out)

        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/broken.json"))
        let incomplete = try run(["honeytoken", "check", "--cloudtrail", dir + "/broken.json", "--store", store], moto: moto)
        XCTAssertEqual(incomplete.status, 2, "an unreadable log is never reported as clean")
        XCTAssertTrue(incomplete.err.contains("broken.json"), incomplete.err)
    }
}
