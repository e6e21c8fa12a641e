import Foundation
import KitsuneAWS
import KitsuneFindings
import XCTest
@testable import KitsunePosture

/// The collector against a real moto server: roles, functions with env vars, tags, a resource policy with
/// Principal "*", a function URL with AuthType NONE, layers, a deleted role.
final class CollectorTests: XCTestCase {
    /// One seeded moto server for the read-only tests of this class (started on first use, stopped in
    /// `tearDown()` of the class).
    nonisolated(unsafe) private static var shared: Result<MotoServer, any Error>?

    private func seededMoto() throws -> MotoServer {
        if Self.shared == nil {
            Self.shared = Result {
                let moto = try MotoServer()
                try moto.seed(Self.seed)
                return moto
            }
        }
        return try XCTUnwrap(Self.shared).get()
    }

    override class func tearDown() {
        shared = nil
        super.tearDown()
    }

    static let seed = #"""
    import io, json, sys, zipfile, boto3
    endpoint = sys.argv[1]
    kw = dict(endpoint_url=endpoint, region_name="us-east-1")
    iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    shared = iam.create_role(RoleName="shared-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="shared-role", PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"}]}))
    iam.attach_role_policy(RoleName="shared-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    scoped = iam.create_role(RoleName="scoped-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="scoped-role", PolicyName="orders", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}]}))
    ghost = iam.create_role(RoleName="ghost-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 1\n")
    code = {"ZipFile": buf.getvalue()}
    layer = lam.publish_layer_version(LayerName="tools", Content=code, CompatibleRuntimes=["python3.13"])["LayerVersionArn"]
    def fn(name, role, runtime="python3.13", env=None, tags=None, layers=None):
        lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="app.handler", Code=code,
                            Environment={"Variables": env or {}}, Tags=tags or {}, Layers=layers or [])
    fn("pay-public", shared, env={"DB_PASSWORD": "hunter2hunter2"}, tags={"team": "payments"})
    fn("pay-url", shared, tags={"team": "payments"})
    fn("orders-ok", scoped, layers=[layer], tags={"team": "orders"})
    fn("legacy", ghost, runtime="python3.8", tags={"team": "orders"})
    iam.delete_role(RoleName="ghost-role")
    lam.add_permission(FunctionName="pay-public", StatementId="open", Action="lambda:InvokeFunction", Principal="*")
    lam.create_function_url_config(FunctionName="pay-url", AuthType="NONE")
    # A bare account id as Principal: moto (like Lambda's AddPermission input) stores it as the bare string.
    lam.add_permission(FunctionName="pay-url", StatementId="partner", Action="lambda:InvokeFunction", Principal="210987654321")
    lam.add_permission(FunctionName="orders-ok", StatementId="self", Action="lambda:InvokeFunction", Principal="123456789012")
    """#

    private func client(_ moto: MotoServer) throws -> AWSClient {
        let environment = AWSEnvironment(variables: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                                                     "AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1"],
                                         homeDirectory: FileManager.default.temporaryDirectory.path)
        return try AWSClient.fromEnvironment(environment)
    }

    func testCollectorReadsTheAccountAndChecksFindTheProblems() async throws {
        let moto = try seededMoto()
        let snapshot = try await SnapshotCollector(client: try client(moto)).collect(CollectorOptions(regions: ["us-east-1"]))
        XCTAssertEqual(snapshot.accountID, "123456789012")
        XCTAssertEqual(Set(snapshot.functions.map(\.name)), ["pay-public", "pay-url", "orders-ok", "legacy"])
        let pay = try XCTUnwrap(snapshot.functions.first { $0.name == "pay-public" })
        XCTAssertEqual(pay.environment.value?["DB_PASSWORD"], .string("hunter2hunter2"))
        XCTAssertEqual(pay.tags.value?["team"], "payments")
        XCTAssertNotNil(pay.resourcePolicy.value ?? nil, "resource policy read")

        let report = try PostureEngine.standard().run(snapshot, now: fixedNow)
        let f = report.findings
        func arn(_ name: String) -> String { "arn:aws:lambda:us-east-1:123456789012:function:\(name)" }
        XCTAssertEqual(f.status("function-public-policy", arn("pay-public")), .fail)
        XCTAssertEqual(f.status("function-url-auth-none", arn("pay-url")), .fail)
        XCTAssertEqual(f.status("function-url-auth-none", arn("orders-ok")), .pass)
        XCTAssertEqual(f.status("env-plaintext-secrets", arn("pay-public")), .fail)
        XCTAssertEqual(f.status("env-plaintext-secrets", arn("orders-ok")), .pass)
        XCTAssertEqual(f.status("runtime-deprecated", arn("legacy")), .fail)
        XCTAssertEqual(f.status("role-per-function", arn("pay-public")), .fail, "shared-role is used twice")
        XCTAssertEqual(f.status("role-per-function", arn("orders-ok")), .pass)
        XCTAssertEqual(f.status("role-active", arn("legacy")), .fail, "ghost-role was deleted")
        XCTAssertEqual(f.status("role-active", arn("orders-ok")), .pass)
        XCTAssertEqual(f.status("layer-cross-account", arn("orders-ok")), .pass, "own-account layer")
        let partner = try XCTUnwrap(f.finding("function-cross-account-policy", arn("pay-url")))
        XCTAssertEqual(partner.status, .fail, "bare account id principal of another account (CIS 4.10): \(partner.message)")
        XCTAssertTrue(partner.message.contains("210987654321"), partner.message)
        XCTAssertEqual(f.status("function-cross-account-policy", arn("orders-ok")), .pass, "the function's own account")
        let shared = "arn:aws:iam::123456789012:role/shared-role", scoped = "arn:aws:iam::123456789012:role/scoped-role"
        XCTAssertEqual(f.status("role-admin", shared), .fail)
        XCTAssertEqual(f.status("role-privilege-escalation", shared), .fail)
        XCTAssertEqual(f.status("role-broad-managed-policy", shared), .fail)
        for check in ["role-admin", "role-privilege-escalation", "role-data-exfiltration", "role-least-privilege", "role-broad-managed-policy"] {
            XCTAssertEqual(f.status(check, scoped), .pass, check)
        }
        // VPC, concurrency, DLQ and AWS Config are read live (none is configured in this seed).
        for check in ["vpc-configured", "dead-letter-queue", "reserved-concurrency"] {
            XCTAssertEqual(f.status(check, arn("orders-ok")), .fail, check)
        }
        XCTAssertEqual(f.first { $0.ruleID == "config-records-lambda" }?.status, .fail, "moto has no Config recorder")
    }

    func testPostureRunBuildsTheSharedReportAndExitCodes() async throws {
        let moto = try seededMoto()
        let run = PostureRun(client: try client(moto), options: CollectorOptions(regions: ["us-east-1"], functionGlob: "orders-*"))
        let result = try await run.run(now: fixedNow)
        XCTAssertFalse(result.isPartial)
        XCTAssertEqual(result.report.target, "aws account 123456789012 regions us-east-1")
        XCTAssertEqual(result.report.statistics["functions"], 1)
        XCTAssertFalse(result.report.findings.contains { $0.status == .pass }, "PASS only with includePass")
        XCTAssertFalse(result.report.findings.contains { $0.status == .manual }, "every fact is readable from moto: no MANUAL")
        XCTAssertEqual(result.exitCode(threshold: .high), 0, "orders-ok has no FAIL at high or above")
        XCTAssertEqual(result.exitCode(threshold: .low), 1, "it does fail low-severity checks (tracing, insights)")
        let json = try ReportFormat.json.render(result.report)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"cis_section\""))
        let all = try await PostureRun(client: try client(moto), options: CollectorOptions(regions: ["us-east-1"]),
                                       includePass: true).run(now: fixedNow)
        XCTAssertEqual(all.exitCode(threshold: .high), 1)
        XCTAssertTrue(all.report.findings.contains { $0.status == .pass })
        XCTAssertThrowsError(try PostureRun.parseTags(["team"])) { XCTAssertTrue("\($0)".contains("KEY=VALUE")) }
        XCTAssertEqual(try PostureRun.parseTags(["a=b=c"]), ["a": "b=c"])
    }

    func testPartialRunExitsTwoWhenNothingFails() {
        let report = ScanReport(target: "t", startedAt: Date(), finishedAt: Date(), findings: [])
        XCTAssertEqual(PostureRun.Result(report: report, isPartial: true).exitCode(threshold: .high), 2)
        XCTAssertEqual(PostureRun.Result(report: report, isPartial: false).exitCode(threshold: .high), 0)
    }

    func testFiltersByNameGlobAndTag() async throws {
        let moto = try seededMoto()
        let collector = SnapshotCollector(client: try client(moto))
        let byName = try await collector.collect(CollectorOptions(regions: ["us-east-1"], functionGlob: "pay-*"))
        XCTAssertEqual(Set(byName.functions.map(\.name)), ["pay-public", "pay-url"])
        let byTag = try await collector.collect(CollectorOptions(regions: ["us-east-1"], tags: ["team": "orders"]))
        XCTAssertEqual(Set(byTag.functions.map(\.name)), ["orders-ok", "legacy"])
        // A role shared with a function outside the selection is still reported as shared.
        let one = try await collector.collect(CollectorOptions(regions: ["us-east-1"], functionGlob: "pay-public"))
        XCTAssertEqual(one.functions.map(\.name), ["pay-public"])
        let finding = try PostureEngine.standard().run(one, now: fixedNow).findings
            .finding("role-per-function", "arn:aws:lambda:us-east-1:123456789012:function:pay-public")
        XCTAssertEqual(finding?.status, .fail)
        XCTAssertTrue(finding?.message.contains("pay-url") ?? false)
    }

    func testUnreachableEndpointMarksTheRunPartialNeverPass() async throws {
        // A port nobody listens on: every call fails after retries; the snapshot is empty and incomplete.
        let environment = AWSEnvironment(variables: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                                                     "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "us-east-1"],
                                         homeDirectory: FileManager.default.temporaryDirectory.path)
        let client = try AWSClient.fromEnvironment(environment, retry: RetryPolicy(maxAttempts: 1))
        let snapshot = try await SnapshotCollector(client: client).collect(CollectorOptions(regions: ["us-east-1"]))
        XCTAssertTrue(snapshot.functions.isEmpty)
        XCTAssertFalse(snapshot.incomplete.isEmpty)
        XCTAssertTrue(snapshot.incomplete.joined().contains("lambda:ListFunctions in us-east-1 failed"), snapshot.incomplete.joined())
        let report = try PostureEngine.standard().run(snapshot, now: fixedNow)
        XCTAssertTrue(report.isPartial)
    }

    func testMissingCredentialsAbortWithAClearError() async throws {
        let environment = AWSEnvironment(variables: ["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
                                                     "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                                                     "AWS_CONFIG_FILE": "/nonexistent/config",
                                                     "AWS_EC2_METADATA_DISABLED": "true"],
                                         homeDirectory: "/nonexistent")
        do {
            let client = try AWSClient.fromEnvironment(environment, retry: RetryPolicy(maxAttempts: 1))
            _ = try await SnapshotCollector(client: client).collect(CollectorOptions(regions: ["us-east-1"]))
            XCTFail("expected a credentials error")
        } catch {
            XCTAssertTrue("\(error)".contains("credentials"), "\(error)")
        }
    }
}
