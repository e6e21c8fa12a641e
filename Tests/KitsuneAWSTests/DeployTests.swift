import Foundation
import XCTest
@testable import KitsuneAWS

/// `kitsune deploy` semantics against a real moto account.
final class DeployTests: XCTestCase {
    private let wrapper = KitsuneLayer.wrapperVariable

    private struct Account {
        let client: AWSClient
        let kitsune1: String
        let kitsune2: String
        let deps: String
    }

    private func makeAccount() async throws -> Account {
        let client = TestServers.client(try TestServers.freshMoto())
        let role = try await LambdaFixture.role(client)
        let layerZip = TestZip.make([("kitsune/wrapper", "#!/bin/sh\nexec \"$@\"\n")])
        let kitsune1 = try await client.lambda.publishLayerVersion("kitsune", zip: layerZip).layerVersionArn
        let kitsune2 = try await client.lambda.publishLayerVersion("kitsune", zip: layerZip).layerVersionArn
        let deps = try await client.lambda.publishLayerVersion("deps", zip: TestZip.make([("python/d.py", "")])).layerVersionArn
        var fillers: [String] = []
        for index in 1...5 {
            fillers.append(try await client.lambda.publishLayerVersion("filler\(index)", zip: TestZip.make([("f", "")])).layerVersionArn)
        }
        func make(_ name: String, _ runtime: String, layers: [String] = [], env: [String: String] = [:],
                  protect: String = "yes") async throws {
            try await client.lambda.createFunction(LambdaCreateFunctionInput(
                name: name, runtime: runtime, role: role, handler: runtime.hasPrefix("provided") ? "bootstrap" : "index.handler",
                zip: LambdaFixture.handlerZip, layers: layers, environment: env, tags: ["kitsune": protect, "team": "x"]))
        }
        try await make("api", "python3.12", layers: [deps], env: ["TABLE": "orders", "LOG_LEVEL": "debug"])
        try await make("worker", "nodejs20.x")
        try await make("custom", "provided.al2023")
        try await make("datadog", "python3.12", env: [wrapper: "/opt/datadog_wrapper"])
        try await make("untagged", "python3.12", protect: "no")
        try await make("full", "python3.12", layers: fillers)
        try await make("upgrade", "java21", layers: [kitsune1, deps], env: [wrapper: KitsuneLayer.wrapperPath])
        return Account(client: client, kitsune1: kitsune1, kitsune2: kitsune2, deps: deps)
    }

    private func deploy(_ account: Account, mode: DeployMode = .attach, dryRun: Bool = false) async throws -> DeployReport {
        try await Deployer(client: account.client, options: DeployOptions(
            layer: try LayerARN(account.kitsune2), selectors: [try FunctionSelector(parsing: "tag:kitsune=yes")],
            mode: mode, dryRun: dryRun, concurrency: 3)).run()
    }

    private func outcomes(_ report: DeployReport) -> [String: DeployOutcome] {
        Dictionary(uniqueKeysWithValues: report.results.map { ($0.function, $0.outcome) })
    }

    func testDryRunApplyIdempotentRemove() async throws {
        let account = try await makeAccount()
        let lambda = account.client.lambda

        // Dry run: decisions reported, nothing changed.
        let dry = try await deploy(account, dryRun: true)
        XCTAssertEqual(outcomes(dry), ["api": .wouldChange, "worker": .wouldChange, "custom": .skipped, "datadog": .skipped,
                                       "full": .failed, "upgrade": .wouldChange])
        XCTAssertEqual(dry.scanned, 7)
        let untouched = try await lambda.getFunctionConfiguration("api")
        XCTAssertEqual(untouched.layerARNs, [account.deps])
        XCTAssertNil(untouched.variables[wrapper])
        let customDetail = dry.results.first { $0.function == "custom" }?.detail ?? ""
        XCTAssertTrue(customDetail.contains("kitsune protect"), customDetail)
        let datadogDetail = dry.results.first { $0.function == "datadog" }?.detail ?? ""
        XCTAssertTrue(datadogDetail.contains("/opt/datadog_wrapper"), datadogDetail)
        let fullDetail = dry.results.first { $0.function == "full" }?.detail ?? ""
        XCTAssertTrue(fullDetail.contains("5 layers"), fullDetail)

        // Apply: other layers and variables preserved, order kept, old Kitsune version replaced in place.
        let applied = try await deploy(account)
        XCTAssertEqual(outcomes(applied), ["api": .changed, "worker": .changed, "custom": .skipped, "datadog": .skipped,
                                           "full": .failed, "upgrade": .changed])
        XCTAssertTrue(applied.hasFailures, "the 5-layer function makes the run exit 1")
        let api = try await lambda.getFunctionConfiguration("api")
        XCTAssertEqual(api.layerARNs, [account.deps, account.kitsune2])
        XCTAssertEqual(api.variables, ["TABLE": "orders", "LOG_LEVEL": "debug", wrapper: KitsuneLayer.wrapperPath])
        let worker = try await lambda.getFunctionConfiguration("worker")
        XCTAssertEqual(worker.layerARNs, [account.kitsune2])
        XCTAssertEqual(worker.variables, [wrapper: KitsuneLayer.wrapperPath])
        let upgraded = try await lambda.getFunctionConfiguration("upgrade")
        XCTAssertEqual(upgraded.layerARNs, [account.kitsune2, account.deps])
        let datadog = try await lambda.getFunctionConfiguration("datadog")
        XCTAssertEqual(datadog.variables[wrapper], "/opt/datadog_wrapper", "another wrapper is never replaced")
        let untagged = try await lambda.getFunctionConfiguration("untagged")
        XCTAssertEqual(untagged.layerARNs, [], "unselected functions are not touched")
        XCTAssertTrue(applied.renderText().contains("3 changed"), applied.renderText())

        // Idempotent: a second run changes nothing.
        let again = try await deploy(account)
        XCTAssertEqual(outcomes(again)["api"], .already)
        XCTAssertEqual(outcomes(again)["worker"], .already)
        XCTAssertEqual(outcomes(again)["upgrade"], .already)
        XCTAssertEqual(again.count(.changed), 0)

        // Remove: only Kitsune's layer and wrapper go.
        let removed = try await deploy(account, mode: .remove)
        XCTAssertEqual(outcomes(removed)["api"], .changed)
        XCTAssertEqual(outcomes(removed)["datadog"], .already)
        let apiAfter = try await lambda.getFunctionConfiguration("api")
        XCTAssertEqual(apiAfter.layerARNs, [account.deps])
        XCTAssertEqual(apiAfter.variables, ["TABLE": "orders", "LOG_LEVEL": "debug"])
        let upgradeAfter = try await lambda.getFunctionConfiguration("upgrade")
        XCTAssertEqual(upgradeAfter.layerARNs, [account.deps])
        XCTAssertNil(upgradeAfter.variables[wrapper])
        let datadogAfter = try await lambda.getFunctionConfiguration("datadog")
        XCTAssertEqual(datadogAfter.variables[wrapper], "/opt/datadog_wrapper")
        let removedAgain = try await deploy(account, mode: .remove)
        XCTAssertEqual(removedAgain.count(.changed), 0, "remove is idempotent too")
    }

    func testPartialFailureLeavesEachFunctionFullyOldOrFullyNew() async throws {
        let account = try await makeAccount()
        let moto = try TestServers.moto.get()
        let shim = try TestServers.shim(["upstream": moto.url, "failUpdates": ["worker"]])
        defer { shim.stop() }
        let viaShim = TestServers.client(shim)
        let report = try await Deployer(client: viaShim, options: DeployOptions(
            layer: try LayerARN(account.kitsune2), selectors: [try FunctionSelector(parsing: "tag:kitsune=yes")])).run()
        XCTAssertEqual(outcomes(report)["worker"], .failed)
        XCTAssertEqual(outcomes(report)["api"], .changed)
        XCTAssertTrue(report.hasFailures)
        let detail = report.results.first { $0.function == "worker" }?.detail ?? ""
        XCTAssertTrue(detail.contains("ResourceConflictException") && detail.contains("left unchanged"), detail)
        let worker = try await account.client.lambda.getFunctionConfiguration("worker")
        XCTAssertEqual(worker.layerARNs, [], "failed function is fully old")
        XCTAssertNil(worker.variables[wrapper])
        let api = try await account.client.lambda.getFunctionConfiguration("api")
        XCTAssertEqual(api.layerARNs, [account.deps, account.kitsune2], "others are fully new")
        let stats = try TestServers.shimStats(shim)
        XCTAssertEqual(stats["update:api"], 1, "exactly one UpdateFunctionConfiguration per function")
        XCTAssertEqual(stats["update:worker"], 1, "a conflict is not retried blindly")
    }

    func testBadInputIsRejectedClearly() throws {
        XCTAssertThrowsError(try FunctionSelector(parsing: "name:api")) { XCTAssertTrue("\($0)".contains("tag:KEY=VALUE")) }
        XCTAssertThrowsError(try FunctionSelector(parsing: "tag:=x")) { XCTAssertTrue("\($0)".contains("non-empty KEY")) }
        XCTAssertEqual(try FunctionSelector(parsing: "tag:env=prod=eu").value, "prod=eu")
        XCTAssertThrowsError(try LayerARN("arn:aws:lambda:us-east-1:12345:layer:k:1")) { XCTAssertTrue("\($0)".contains("12-digit")) }
        XCTAssertThrowsError(try LayerARN("arn:aws:s3:::bucket")) { XCTAssertTrue("\($0)".contains("not a Lambda layer version ARN")) }
        XCTAssertThrowsError(try LayerARN("arn:aws:lambda:us-east-1:123456789012:layer:k:0"))
        XCTAssertThrowsError(try LayerARN("arn:aws:lambda:us-east-1:123456789012:layer:k")) { XCTAssertTrue("\($0)".contains("no version")) }
        let client = AWSClient(region: "us-east-1", credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b")),
                               endpoints: EndpointResolver())
        XCTAssertThrowsError(try Deployer(client: client, options: DeployOptions(
            layer: try LayerARN("arn:aws:lambda:us-east-1:123456789012:layer:k:1"), selectors: []))) {
            XCTAssertTrue("\($0)".contains("--select"))
        }
    }

    func testPlannerEdgeCases() throws {
        let planner = DeployPlanner(layer: try LayerARN("arn:aws:lambda:eu-west-1:123456789012:layer:kitsune:4"), mode: .attach)
        func function(_ runtime: String?, arn: String = "arn:aws:lambda:eu-west-1:123456789012:function:f",
                      package: String? = "Zip") -> LambdaFunctionConfiguration {
            LambdaFunctionConfiguration(functionName: "f", functionArn: arn, runtime: runtime, packageType: package,
                                        revisionId: "rev-1")
        }
        guard case .invalid(let region) = planner.decide(function("python3.12", arn: "arn:aws:lambda:us-east-1:123456789012:function:f")) else {
            return XCTFail("region mismatch not caught")
        }
        XCTAssertTrue(region.contains("us-east-1"), region)
        guard case .skipped = planner.decide(function(nil, package: "Image")) else { return XCTFail("image not skipped") }
        guard case .skipped = planner.decide(function("provided.al2")) else { return XCTFail("provided.al2 not skipped") }
        guard case .update(let update, _) = planner.decide(function("ruby3.3")) else { return XCTFail("no update") }
        XCTAssertEqual(update.revisionId, "rev-1", "updates carry the RevisionId read just before")
        let body = String(decoding: try JSONEncoder().encode(update), as: UTF8.self)
        XCTAssertTrue(body.contains(#""Environment":{"Variables":{"AWS_LAMBDA_EXEC_WRAPPER":"\/opt\/kitsune\/wrapper"}}"#), body)
    }
}

extension LambdaFunctionConfiguration {
    init(functionName: String, functionArn: String, runtime: String?, packageType: String?, revisionId: String?) {
        self.init(functionName: functionName, functionArn: functionArn, runtime: runtime, role: nil, handler: nil, codeSize: nil,
                  description: nil, timeout: nil, memorySize: nil, lastModified: nil, codeSha256: nil, version: nil,
                  kmsKeyArn: nil, tracingConfig: nil, layers: nil, environment: nil, state: nil, lastUpdateStatus: nil,
                  packageType: packageType, architectures: nil, revisionId: revisionId, signingProfileVersionArn: nil)
    }
}
