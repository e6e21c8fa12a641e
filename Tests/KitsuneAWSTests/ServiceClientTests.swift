import Foundation
import XCTest
@testable import KitsuneAWS

/// Lambda, IAM, STS and CloudTrail clients against a real moto server.
final class ServiceClientTests: XCTestCase {
    func testLambdaReadAPIs() async throws {
        let moto = try TestServers.freshMoto()
        let client = TestServers.client(moto)
        let role = try await LambdaFixture.role(client)
        let layer = try await client.lambda.publishLayerVersion("deps", zip: TestZip.make([("python/x.py", "X = 1\n")]),
                                                                description: "deps", compatibleRuntimes: ["python3.12"])
        XCTAssertEqual(layer.version, 1)
        XCTAssertTrue(layer.layerVersionArn.hasSuffix(":layer:deps:1"), layer.layerVersionArn)
        let created = try await client.lambda.createFunction(LambdaCreateFunctionInput(
            name: "orders-api", runtime: "python3.12", role: role, handler: "index.handler", zip: LambdaFixture.handlerZip,
            layers: [layer.layerVersionArn], environment: ["TABLE": "orders"], tags: ["team": "payments"]))
        XCTAssertEqual(created.functionName, "orders-api")

        let function = try await client.lambda.getFunction("orders-api")
        XCTAssertEqual(function.configuration.runtime, "python3.12")
        XCTAssertEqual(function.configuration.layerARNs, [layer.layerVersionArn])
        XCTAssertEqual(function.configuration.variables, ["TABLE": "orders"])
        XCTAssertEqual(function.tags?["team"], "payments")
        XCTAssertNotNil(function.code?.location)
        // Lookup by ARN exercises the double-encoded path (":" → %3A → %253A in the signature).
        let byARN = try await client.lambda.getFunctionConfiguration(created.functionArn)
        XCTAssertEqual(byARN.functionName, "orders-api")
        let tags = try await client.lambda.listTags(created.functionArn)
        XCTAssertEqual(tags, ["team": "payments"])
        let policy = try await client.lambda.getPolicy("orders-api")
        XCTAssertNil(policy, "no resource policy → nil, not an error")
        let url = try await client.lambda.getFunctionUrlConfig("orders-api")
        XCTAssertNil(url)
        let signing = try await client.lambda.getFunctionCodeSigningConfig("orders-api")
        XCTAssertNil(signing)
        let versions = try await client.lambda.listLayerVersions("deps")
        XCTAssertEqual(versions.map(\.version), [1])
        let byLayerARN = try await client.lambda.getLayerVersion(arn: layer.layerVersionArn)
        XCTAssertEqual(byLayerARN.version, 1)
        XCTAssertThrowsError(try LayerARN("arn:aws:lambda:us-east-1:123456789012:layer:deps")) { error in
            XCTAssertTrue("\(error)".contains("version"), "\(error)")
        }
    }

    func testLambdaPagingOverManyFunctionsWithProgress() async throws {
        let moto = try TestServers.freshMoto()
        let admin = TestServers.client(moto)
        let role = try await LambdaFixture.role(admin)
        let names = (0..<55).map { String(format: "fn-%03d", $0) }
        let created = await boundedMap(names, limit: 8) { name in
            try await admin.lambda.createFunction(LambdaCreateFunctionInput(
                name: name, runtime: "nodejs20.x", role: role, handler: "index.handler", zip: LambdaFixture.handlerZip))
        }
        XCTAssertEqual(created.filter { if case .success = $0 { return true }; return false }.count, 55)
        // moto answers ListFunctions in one page; the shim pages moto's real answer by MaxItems/Marker.
        let shim = try TestServers.shim(["upstream": moto.url, "pageLambda": true])
        defer { shim.stop() }
        let counter = Counter()
        let all = try await TestServers.client(shim).lambda.listFunctions(pageSize: 7, onPage: { count in
            counter.append(count)
        })
        XCTAssertEqual(counter.values, [7, 14, 21, 28, 35, 42, 49, 55], "progress after every page")
        XCTAssertEqual(Set(all.map(\.functionName)), Set(names))
        XCTAssertEqual(all.count, 55, "no duplicates, nothing lost across pages")
        XCTAssertEqual(try TestServers.shimStats(shim)["listPages"], 8, "55 functions / 7 per page = 8 pages")
    }

    func testIAMRolesPoliciesAndPaging() async throws {
        let moto = try TestServers.freshMoto()
        let client = TestServers.client(moto)
        for index in 0..<5 {
            _ = try await client.iam.createRole("role-\(index)", assumeRolePolicy: LambdaFixture.trustPolicy)
        }
        let roles = try await client.iam.listRoles(pageSize: 2)
        XCTAssertEqual(Set(roles.map(\.roleName)), Set((0..<5).map { "role-\($0)" }), "3 pages of IAM Marker paging")
        let role = try await client.iam.getRole("role-0")
        XCTAssertTrue(role.assumeRolePolicyDocument?.contains(#""Service":"lambda.amazonaws.com""#) == true,
                      "trust policy is URL-decoded JSON: \(role.assumeRolePolicyDocument ?? "nil")")
        let inline = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        try await client.iam.putRolePolicy("role-0", policyName: "wide", document: inline)
        let inlineNames = try await client.iam.listRolePolicies("role-0")
        XCTAssertEqual(inlineNames, ["wide"])
        let fetched = try await client.iam.getRolePolicy("role-0", policyName: "wide")
        let object = try JSONSerialization.jsonObject(with: Data(fetched.document.utf8)) as? [String: Any]
        XCTAssertNotNil(object?["Statement"], "inline policy document decoded to JSON")
        let adminDocument = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        let admin = try await client.iam.createPolicy("everything", document: adminDocument).arn
        try await client.iam.attachRolePolicy("role-0", policyARN: admin)
        let attached = try await client.iam.listAttachedRolePolicies("role-0")
        XCTAssertEqual(attached.map(\.policyARN), [admin])
        let policy = try await client.iam.getPolicy(admin)
        XCTAssertEqual(policy.policyName, "everything")
        XCTAssertEqual(policy.attachmentCount, 1)
        let version = try await client.iam.getPolicyVersion(admin, versionID: policy.defaultVersionID)
        XCTAssertTrue(version.document.contains(#""Action": "*""#) || version.document.contains(#""Action":"*""#),
                      version.document)
    }

    func testSTSAndCloudTrail() async throws {
        let moto = try TestServers.freshMoto()
        let client = TestServers.client(moto)
        let identity = try await client.sts.getCallerIdentity()
        XCTAssertEqual(identity.account.count, 12)
        XCTAssertTrue(identity.arn.hasPrefix("arn:aws:"), identity.arn)
        let trails = try await client.cloudTrail.describeTrails()
        XCTAssertEqual(trails, [])
        do { _ = try await client.cloudTrail.getEventSelectors("missing-trail"); XCTFail("no error") } catch let error as AWSError {
            XCTAssertTrue(error.isNotFound || error.description.contains("missing-trail"), "\(error)")
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int] = []
    func append(_ value: Int) { lock.lock(); stored.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return stored }
}
