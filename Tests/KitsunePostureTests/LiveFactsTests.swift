import Foundation
import KitsuneAWS
import KitsuneFindings
import XCTest
@testable import KitsunePosture

/// VPC, reserved concurrency, dead-letter and AWS Config facts collected from a real moto server.
final class LiveFactsTests: XCTestCase {
    static let functionsSeed = #"""
    import io, json, sys, zipfile, boto3
    kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1")
    iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 1\n")
    lam.create_function(FunctionName="in-vpc", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()},
                        VpcConfig={"SubnetIds": ["subnet-0a1b2c3d"], "SecurityGroupIds": ["sg-0a1b2c3d"]})
    lam.put_function_concurrency(FunctionName="in-vpc", ReservedConcurrentExecutions=5)
    lam.create_function(FunctionName="plain", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()})
    """#

    static func client(_ endpoint: String, variables extra: [String: String] = [:]) throws -> AWSClient {
        var variables = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                         "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1"]
        variables.merge(extra) { $1 }
        return try AWSClient.fromEnvironment(AWSEnvironment(variables: variables, homeDirectory: FileManager.default.temporaryDirectory.path),
                                             retry: RetryPolicy(maxAttempts: 1))
    }

    func testVpcConcurrencyAndDeadLetterFactsAreCollectedAndChecked() async throws {
        let moto = try MotoServer()
        try moto.seed(Self.functionsSeed)
        let snapshot = try await SnapshotCollector(client: try Self.client(moto.endpoint)).collect(CollectorOptions(regions: ["us-east-1"]))
        XCTAssertTrue(snapshot.incomplete.isEmpty, snapshot.incomplete.joined(separator: "; "))
        let vpc = try XCTUnwrap(snapshot.functions.first { $0.name == "in-vpc" })
        let plain = try XCTUnwrap(snapshot.functions.first { $0.name == "plain" })
        XCTAssertEqual(vpc.inVPC, .known(true))
        XCTAssertEqual(plain.inVPC, .known(false))
        XCTAssertEqual(vpc.reservedConcurrency, .known(true))
        XCTAssertEqual(plain.reservedConcurrency, .known(false), "GetFunctionConcurrency answers {} when none is set")
        XCTAssertEqual(plain.deadLetterTarget, .known(nil), "no DeadLetterConfig in GetFunctionConfiguration")

        let findings = try PostureEngine.standard().run(snapshot, now: fixedNow).findings
        func arn(_ name: String) -> String { "arn:aws:lambda:us-east-1:123456789012:function:\(name)" }
        XCTAssertEqual(findings.status("vpc-configured", arn("in-vpc")), .pass)
        XCTAssertEqual(findings.status("vpc-configured", arn("plain")), .fail)
        XCTAssertEqual(findings.status("reserved-concurrency", arn("in-vpc")), .pass)
        XCTAssertEqual(findings.status("reserved-concurrency", arn("plain")), .fail)
        XCTAssertEqual(findings.status("dead-letter-queue", arn("plain")), .fail)
        let config = findings.first { $0.ruleID == "config-records-lambda" }
        XCTAssertEqual(config?.status, .fail)
        XCTAssertTrue(config?.message.contains("No AWS Config configuration recorder") ?? false, config?.message ?? "")
    }

    func testLambdaModelParsesVpcAndDeadLetterConfigAsTheAPIReturnsThem() throws {
        // Shapes from the Lambda API reference (FunctionConfiguration): a function outside a VPC gets empty lists.
        let inside = #"{"FunctionName":"f","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f","VpcConfig":{"SubnetIds":["subnet-1"],"SecurityGroupIds":["sg-1"],"VpcId":"vpc-1"},"DeadLetterConfig":{"TargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq"}}"#
        let outside = #"{"FunctionName":"g","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:g","VpcConfig":{"SubnetIds":[],"SecurityGroupIds":[],"VpcId":""},"DeadLetterConfig":{}}"#
        let a = try JSONDecoder().decode(LambdaFunctionConfiguration.self, from: Data(inside.utf8))
        let b = try JSONDecoder().decode(LambdaFunctionConfiguration.self, from: Data(outside.utf8))
        XCTAssertTrue(a.isInVPC)
        XCTAssertEqual(a.deadLetterTargetArn, "arn:aws:sqs:us-east-1:123456789012:dlq")
        XCTAssertFalse(b.isInVPC)
        XCTAssertNil(b.deadLetterTargetArn)
    }

    func testConfigRecorderStatesGiveFailUntilLambdaIsRecorded() async throws {
        let moto = try MotoServer()
        // AWS_ENDPOINT_URL points nowhere: Config calls reach moto only through AWS_ENDPOINT_URL_CONFIG.
        let client = try Self.client("http://127.0.0.1:9", variables: ["AWS_ENDPOINT_URL_CONFIG": moto.endpoint])
        let collector = SnapshotCollector(client: client)
        func verdict() async throws -> Finding? {
            let log = CollectorLog()
            let status = await collector.configRecorder(client, log: log)
            let notes = await log.notes
            XCTAssertTrue(notes.isEmpty, notes.joined())
            let snapshot = AccountSnapshot(accountID: "123456789012", regions: [RegionSnapshot(region: "us-east-1", configRecorder: status)],
                                           functions: [], roles: [:])
            return try PostureEngine.standard().run(snapshot, now: fixedNow).findings.first { $0.ruleID == "config-records-lambda" }
        }
        let none = try await verdict()
        XCTAssertEqual(none?.status, .fail)
        let recorder = #"""
        import sys, boto3
        cfg = boto3.client("config", endpoint_url=sys.argv[1], region_name="us-east-1")
        group = {"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::S3::Bucket"]}
        cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": "arn:aws:iam::123456789012:role/config", "recordingGroup": group})
        cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"})
        """#
        try moto.seed(recorder)
        let stopped = try await verdict()
        XCTAssertEqual(stopped?.status, .fail)
        XCTAssertTrue(stopped?.message.contains("not recording") ?? false, stopped?.message ?? "")
        try moto.seed(#"""
        import sys, boto3
        boto3.client("config", endpoint_url=sys.argv[1], region_name="us-east-1").start_configuration_recorder(ConfigurationRecorderName="default")
        """#)
        let s3Only = try await verdict()
        XCTAssertEqual(s3Only?.status, .fail)
        XCTAssertTrue(s3Only?.message.contains("does not record AWS::Lambda::Function") ?? false, s3Only?.message ?? "")
        try moto.seed(recorder.replacingOccurrences(of: "AWS::S3::Bucket", with: "AWS::Lambda::Function"))
        let recording = try await verdict()
        XCTAssertEqual(recording?.status, .pass, recording?.message ?? "")
    }

    func testConfigAccessDeniedIsManualAndNotPartial() async throws {
        // moto enforcing IAM after the three seeding calls: the auditor may do anything but config:*.
        let moto = try MotoServer(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"])
        let output = try moto.seed(#"""
        import json, sys, boto3
        iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
        iam.create_user(UserName="auditor")
        iam.put_user_policy(UserName="auditor", PolicyName="no-config", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "config:*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="auditor")["AccessKey"]
        print(key["AccessKeyId"] + " " + key["SecretAccessKey"])
        """#)
        let parts = output.split(whereSeparator: \.isWhitespace).map(String.init)
        XCTAssertEqual(parts.count, 2, output)
        guard parts.count == 2 else { return }
        let client = try Self.client(moto.endpoint, variables: ["AWS_ACCESS_KEY_ID": parts[0], "AWS_SECRET_ACCESS_KEY": parts[1]])
        let log = CollectorLog()
        let status = await SnapshotCollector(client: client).configRecorder(client, log: log)
        XCTAssertEqual(status.reason, "AccessDenied for config:DescribeConfigurationRecorders")
        let notes = await log.notes
        XCTAssertTrue(notes.isEmpty, "AccessDenied is MANUAL, not a partial run: \(notes)")
        let snapshot = AccountSnapshot(accountID: "123456789012", regions: [RegionSnapshot(region: "us-east-1", configRecorder: status)],
                                       functions: [], roles: [:])
        let finding = try PostureEngine.standard().run(snapshot, now: fixedNow).findings.first { $0.ruleID == "config-records-lambda" }
        XCTAssertEqual(finding?.status, .manual)
        XCTAssertTrue(finding?.message.contains("AccessDenied for config:DescribeConfigurationRecorders") ?? false, finding?.message ?? "")
    }
}
