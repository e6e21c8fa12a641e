import Foundation
import XCTest
@testable import KitsuneAWS

/// The reconciler's pure decisions: one update that gets a function to its desired configuration,
/// keeping everything that is not Kitsune's.
final class ProtectionPlannerTests: XCTestCase {
    let planner = ProtectionPlanner(layerNames: ["kitsune-managed-x86_64", "kitsune-managed-arm64"])
    let v3 = "arn:aws:lambda:eu-west-1:123456789012:layer:kitsune-managed-x86_64:3"
    let v4 = "arn:aws:lambda:eu-west-1:123456789012:layer:kitsune-managed-x86_64:4"
    let deps = "arn:aws:lambda:eu-west-1:123456789012:layer:deps:1"
    let wrapper = KitsuneLayer.wrapperVariable

    func function(_ runtime: String? = "python3.12", package: String = "Zip", layers: [String] = [], env: [String: String] = [:],
                  status: String? = "Successful") -> LambdaFunctionConfiguration {
        var f = LambdaFunctionConfiguration(functionName: "f", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:f", runtime: runtime,
                                            packageType: package, revisionId: "rev-1")
        f.layers = layers.map { .init(arn: $0) }
        f.environment = .init(variables: env)
        f.lastUpdateStatus = status
        return f
    }

    var target: ProtectionTarget {
        ProtectionTarget(layerARN: v4, variables: [wrapper: KitsuneLayer.wrapperPath, "KITSUNE_EVENTS_URL": "https://k/api/v1/events", "KITSUNE_EVENTS_TOKEN": "kit_x"])
    }

    func testProtectKeepsOtherLayersAndVariablesInOneUpdate() {
        guard case .update(let u, let summary) = planner.decide(function(layers: [deps], env: ["TABLE": "orders"]), desired: target) else { return XCTFail() }
        XCTAssertEqual(u.layers, [deps, v4])
        XCTAssertEqual(u.environment?["TABLE"], "orders")
        XCTAssertEqual(u.environment?[wrapper], KitsuneLayer.wrapperPath)
        XCTAssertEqual(u.environment?["KITSUNE_EVENTS_TOKEN"], "kit_x")
        XCTAssertEqual(u.revisionId, "rev-1")
        XCTAssertTrue(summary.contains("+layer kitsune-managed-x86_64:4"), summary)
    }

    func testAnOlderManagedVersionIsReplacedInPlace() {
        let current = function(layers: [v3, deps], env: target.variables)
        guard case .update(let u, let summary) = planner.decide(current, desired: target) else { return XCTFail() }
        XCTAssertEqual(u.layers, [v4, deps])
        XCTAssertTrue(summary.contains("3 → kitsune-managed-x86_64:4"), summary)
        guard case .already = planner.decide(function(layers: [v4, deps], env: target.variables), desired: target) else { return XCTFail() }
    }

    func testWhatCannotBeDoneIsSaidAndNothingIsSent() {
        guard case .skipped(let image) = planner.decide(function(nil, package: "Image"), desired: target) else { return XCTFail() }
        XCTAssertTrue(image.contains("image"), image)
        guard case .skipped(let custom) = planner.decide(function("provided.al2023"), desired: target) else { return XCTFail() }
        XCTAssertTrue(custom.contains("kitsune protect"), custom)
        guard case .skipped(let other) = planner.decide(function(env: [wrapper: "/opt/datadog_wrapper"]), desired: target) else { return XCTFail() }
        XCTAssertTrue(other.contains("datadog"), other)
        let five = (1...5).map { "arn:aws:lambda:eu-west-1:123456789012:layer:l\($0):1" }
        guard case .failed(let full) = planner.decide(function(layers: five), desired: target) else { return XCTFail() }
        XCTAssertTrue(full.contains("5"), full)
        guard case .failed(let big) = planner.decide(function(env: ["BIG": String(repeating: "x", count: 4000)]), desired: target) else { return XCTFail() }
        XCTAssertTrue(big.contains("4096"), big)
        guard case .retry = planner.decide(function(status: "InProgress"), desired: target) else { return XCTFail("update in progress") }
    }

    func testRemovalTakesOffOnlyWhatKitsuneAdded() {
        let protected = function(layers: [deps, v4], env: target.variables.merging(["TABLE": "orders"]) { a, _ in a })
        guard case .update(let u, _) = planner.decide(protected, desired: nil) else { return XCTFail() }
        XCTAssertEqual(u.layers, [deps])
        XCTAssertEqual(u.environment, ["TABLE": "orders"])
        // Someone else's wrapper and a hand-made `kitsune deploy` (another layer name) are not ours.
        guard case .already = planner.decide(function(layers: [deps], env: [wrapper: KitsuneLayer.wrapperPath]), desired: nil) else { return XCTFail() }
        let handRemoved = function(layers: [deps], env: target.variables)
        guard case .update(let cleaned, _) = planner.decide(handRemoved, desired: nil, deployedByUs: true) else { return XCTFail() }
        XCTAssertEqual(cleaned.environment, [:])
        guard case .update(let keepsForeign, _) = planner.decide(function(layers: [v4], env: [wrapper: "/opt/other"]), desired: nil) else { return XCTFail() }
        XCTAssertEqual(keepsForeign.environment, [wrapper: "/opt/other"])
    }
}
