import Foundation
import XCTest
@testable import KitsuneAWS

/// `kitsune deploy` and architectures: Kitsune's layer is native code, so a layer published for one
/// architecture (`CompatibleArchitectures`) is attached only to functions of that architecture.
final class DeployArchitectureTests: XCTestCase {
    func testLayerIsAttachedOnlyToFunctionsOfItsArchitecture() async throws {
        let client = TestServers.client(try TestServers.freshMoto())
        let role = try await LambdaFixture.role(client)
        let zip = TestZip.make([("kitsune/wrapper", "#!/bin/sh\nexec \"$@\"\n")])
        let x86 = try await client.lambda.publishLayerVersion("kitsune", zip: zip, compatibleArchitectures: ["x86_64"])
        let arm = try await client.lambda.publishLayerVersion("kitsune-arm64", zip: zip, compatibleArchitectures: ["arm64"])
        let undeclared = try await client.lambda.publishLayerVersion("kitsune-any", zip: zip)
        XCTAssertEqual(x86.compatibleArchitectures, ["x86_64"])
        let armRead = try await client.lambda.getLayerVersion(arn: arm.layerVersionArn)
        XCTAssertEqual(armRead.compatibleArchitectures, ["arm64"])
        for (name, architectures) in [("intel", [String]()), ("graviton", ["arm64"])] {
            try await client.lambda.createFunction(LambdaCreateFunctionInput(
                name: name, runtime: "python3.12", role: role, handler: "index.handler", zip: LambdaFixture.handlerZip,
                tags: ["kitsune": "yes"], architectures: architectures))
        }
        let graviton = try await client.lambda.getFunctionConfiguration("graviton")
        XCTAssertEqual(graviton.architectures, ["arm64"])

        func deploy(_ layer: String) async throws -> [String: DeployResult] {
            let report = try await Deployer(client: client, options: DeployOptions(
                layer: try LayerARN(layer), selectors: [try FunctionSelector(parsing: "tag:kitsune=yes")], dryRun: true)).run()
            return Dictionary(uniqueKeysWithValues: report.results.map { ($0.function, $0) })
        }
        let onX86 = try await deploy(x86.layerVersionArn)
        XCTAssertEqual(onX86["intel"]?.outcome, .wouldChange, "no Architectures means x86_64")
        XCTAssertEqual(onX86["graviton"]?.outcome, .failed)
        XCTAssertTrue(onX86["graviton"]?.detail.contains("function runs on arm64 but layer kitsune:1 is for x86_64") == true, "\(onX86)")
        XCTAssertTrue(onX86["graviton"]?.detail.contains("kitsune layer build --architecture arm64") == true, "\(onX86)")

        let onArm = try await deploy(arm.layerVersionArn)
        XCTAssertEqual(onArm["graviton"]?.outcome, .wouldChange)
        XCTAssertEqual(onArm["intel"]?.outcome, .failed)

        // A layer that declares nothing is not checked (Lambda attaches it anywhere).
        let onAny = try await deploy(undeclared.layerVersionArn)
        XCTAssertEqual(onAny["intel"]?.outcome, .wouldChange)
        XCTAssertEqual(onAny["graviton"]?.outcome, .wouldChange)
    }
}
