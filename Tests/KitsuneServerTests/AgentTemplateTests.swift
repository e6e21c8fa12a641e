import Foundation
import XCTest

/// `deploy/kitsune-agent.yaml` installed for real in moto's CloudFormation: the stack completes, the
/// function runs `provided.al2023` from the S3 object with the server URL and token, the role's policy
/// is the least privilege documented, and a schedule invokes the function with permission.
final class AgentTemplateTests: XCTestCase {
    static var template: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/kitsune-agent.yaml").path
    }

    /// Creates the stack with boto3 against `moto` and prints what it made, as JSON.
    static let script = """
        import ast, io, json, sys, zipfile, boto3, yaml
        url, template = sys.argv[1], sys.argv[2]
        kw = dict(endpoint_url=url, region_name="eu-west-1", aws_access_key_id="AKIAKITSUNETEST00001", aws_secret_access_key="test")
        s3 = boto3.client("s3", **kw)
        s3.create_bucket(Bucket="agent-code", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        buf = io.BytesIO(); z = zipfile.ZipFile(buf, "w"); z.writestr("bootstrap", "#!/bin/sh\\nexec ./kitsune agent --lambda\\n"); z.close()
        s3.put_object(Bucket="agent-code", Key="kitsune-agent.zip", Body=buf.getvalue())
        cfn = boto3.client("cloudformation", **kw)
        body = open(template).read()
        cfn.validate_template(TemplateBody=body)
        # moto does not report NoEcho: read it from the template (CloudFormation's short tags as plain values).
        yaml.add_multi_constructor("!", lambda loader, suffix, node: None, Loader=yaml.SafeLoader)
        out = {"no_echo": sorted(k for k, p in yaml.safe_load(body)["Parameters"].items() if p.get("NoEcho"))}
        token = "kit_" + "a" * 16 + "_" + "b" * 64
        cfn.create_stack(StackName="kitsune-agent", TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                         Parameters=[{"ParameterKey": "ServerURL", "ParameterValue": "https://kitsune.example.test"},
                                     {"ParameterKey": "AgentToken", "ParameterValue": token},
                                     {"ParameterKey": "CodeBucket", "ParameterValue": "agent-code"}])
        stack = cfn.describe_stacks(StackName="kitsune-agent")["Stacks"][0]
        out["status"] = stack["StackStatus"]
        out["resources"] = sorted(r["ResourceType"] + " " + r["ResourceStatus"] for r in cfn.describe_stack_resources(StackName="kitsune-agent")["StackResources"])
        fn = boto3.client("lambda", **kw).get_function(FunctionName="kitsune-agent")
        out["runtime"] = fn["Configuration"]["Runtime"]
        out["handler"] = fn["Configuration"]["Handler"]
        out["env"] = fn["Configuration"]["Environment"]["Variables"]
        out["concurrency"] = fn.get("Concurrency", {}).get("ReservedConcurrentExecutions")
        iam = boto3.client("iam", **kw)
        role = fn["Configuration"]["Role"].split("/")[-1]
        policy = iam.get_role_policy(RoleName=role, PolicyName="kitsune-agent")["PolicyDocument"]
        out["policy"] = policy if isinstance(policy, dict) else ast.literal_eval(policy)  # moto keeps CloudFormation's as Python text
        out["trust"] = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        events = boto3.client("events", **kw)
        rule = events.list_rules()["Rules"][0]
        out["schedule"] = rule["ScheduleExpression"]
        out["targets"] = [t["Arn"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
        out["function_arn"] = fn["Configuration"]["FunctionArn"]
        print(json.dumps(out))
        """

    func testTheTemplateInstallsTheAgentWithLeastPrivilege() throws {
        let moto = try Moto()
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        run.arguments = ["python3", "-c", Self.script, moto.url, Self.template]
        let out = Pipe(), err = Pipe()
        run.standardOutput = out
        run.standardError = err
        try run.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 0, errors)
        let made = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], errors)
        XCTAssertEqual(made["status"] as? String, "CREATE_COMPLETE")
        XCTAssertEqual(made["no_echo"] as? [String], ["AgentToken"], "the token is never shown back")
        XCTAssertEqual(made["resources"] as? [String], ["AWS::Events::Rule CREATE_COMPLETE", "AWS::IAM::Role CREATE_COMPLETE", "AWS::Lambda::Function CREATE_COMPLETE",
                                                        "AWS::Lambda::Permission CREATE_COMPLETE", "AWS::Logs::LogGroup CREATE_COMPLETE"])
        XCTAssertEqual(made["runtime"] as? String, "provided.al2023")
        XCTAssertEqual(made["concurrency"] as? Int, 1, "one pass at a time")
        let env = made["env"] as? [String: String] ?? [:]
        XCTAssertEqual(env["KITSUNE_SERVER"], "https://kitsune.example.test")
        XCTAssertEqual(env["KITSUNE_TOKEN"]?.hasPrefix("kit_"), true)
        XCTAssertNil(env["KITSUNE_AGENT_REGIONS"], "no region restriction unless asked")
        XCTAssertEqual(made["schedule"] as? String, "rate(5 minutes)")
        XCTAssertEqual(made["targets"] as? [String], [made["function_arn"] as? String ?? "?"])
        XCTAssertTrue("\(made["trust"] ?? "")".contains("lambda.amazonaws.com"))

        // Least privilege: exactly these actions, no wildcard action, write rights only on this
        // account's functions and on the managed layers.
        let statements = ((made["policy"] as? [String: Any])?["Statement"] as? [[String: Any]]) ?? []
        let actions = Set(statements.flatMap { $0["Action"] as? [String] ?? [] })
        XCTAssertEqual(actions, ["lambda:ListFunctions", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration",
                                 "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource", "lambda:PublishLayerVersion", "lambda:DeleteLayerVersion",
                                 "lambda:ListLayerVersions", "lambda:GetLayerVersion", "logs:CreateLogStream", "logs:PutLogEvents"])
        XCTAssertFalse(actions.contains { $0.hasSuffix("*") })
        for s in statements {
            XCTAssertEqual(s["Effect"] as? String, "Allow")
            let resources = (s["Resource"] as? [String]) ?? [(s["Resource"] as? String) ?? ""]
            let writes = (s["Action"] as? [String] ?? []).filter { ["Update", "Publish", "Delete", "Tag", "Untag", "Put", "Create"].contains(where: $0.contains) }
            if !writes.isEmpty {
                XCTAssertFalse(resources.contains("*"), "\(writes) on every resource")
                XCTAssertTrue(resources.allSatisfy { $0.contains(":123456789012:") }, "\(writes) outside the account: \(resources)")
            }
            if writes.contains("lambda:PublishLayerVersion") { XCTAssertTrue(resources.allSatisfy { $0.contains(":layer:kitsune-managed-") }, "\(resources)") }
        }
    }
}
