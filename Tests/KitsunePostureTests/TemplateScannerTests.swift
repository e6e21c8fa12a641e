import Foundation
import KitsuneFindings
import XCTest
@testable import KitsunePosture

final class TemplateScannerTests: XCTestCase {
    /// A SAM template where every function violates the static checks, and one where everything passes.
    static let failing = """
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Bucket:
        Type: String
        Default: "*"
    Globals:
      Function:
        Runtime: python3.8
        Environment:
          Variables:
            LOG_LEVEL: debug
    Resources:
      SharedRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {Service: lambda.amazonaws.com}
                Action: sts:AssumeRole
          ManagedPolicyArns:
            - arn:aws:iam::aws:policy/AdministratorAccess
          Policies:
            - PolicyName: everything
              PolicyDocument:
                Version: '2012-10-17'
                Statement:
                  Effect: Allow
                  Action: ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction", "s3:*"]
                  Resource: "*"
      OrdersFunction:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          CodeUri: src/
          Role: !GetAtt SharedRole.Arn
          Environment:
            Variables:
              DB_PASSWORD: hunter2hunter2
              AWS_KEY: AKIAIOSFODNN7EXAMPLE
          Layers:
            - arn:aws:lambda:us-east-1:999988887777:layer:shady:3
          FunctionUrlConfig:
            AuthType: NONE
      ReportsFunction:
        Type: AWS::Lambda::Function
        Properties:
          Handler: index.handler
          Runtime: nodejs22.x
          Role: !GetAtt SharedRole.Arn
          Code: {ZipFile: "exports.handler = async () => 1"}
      PublicInvoke:
        Type: AWS::Lambda::Permission
        Properties:
          FunctionName: !Ref ReportsFunction
          Action: lambda:InvokeFunction
          Principal: "*"
      ReaderFunction:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          CodeUri: src/
          Policies:
            - S3ReadPolicy:
                BucketName: !Ref Bucket
            - DynamoDBCrudPolicy:
                TableName: orders
    """

    static let passing = """
    {
      "AWSTemplateFormatVersion": "2010-09-09",
      "Transform": "AWS::Serverless-2016-10-31",
      "Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {}}},
        "Dlq": {"Type": "AWS::SQS::Queue"},
        "Signing": {"Type": "AWS::Lambda::CodeSigningConfig", "Properties": {"AllowedPublishers": {"SigningProfileVersionArns": ["x"]}}},
        "GoodFunction": {
          "Type": "AWS::Serverless::Function",
          "Properties": {
            "Handler": "app.handler", "CodeUri": "src/", "Runtime": "python3.13",
            "Tracing": "Active", "ReservedConcurrentExecutions": 5,
            "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
            "CodeSigningConfigArn": {"Ref": "Signing"},
            "DeadLetterQueue": {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
            "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
            "Layers": [{"Fn::Sub": "arn:aws:lambda:${AWS::Region}:580247275435:layer:LambdaInsightsExtension:53"}],
            "Environment": {"Variables": {"SECRET_ARN": {"Fn::Sub": "arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:db"}, "TABLE": "orders"}},
            "FunctionUrlConfig": {"AuthType": "AWS_IAM"},
            "Policies": [
              {"DynamoDBReadPolicy": {"TableName": "orders"}},
              {"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Dlq", "Arn"]}}]}
            ]
          }
        },
        "S3Invoke": {
          "Type": "AWS::Lambda::Permission",
          "Properties": {"FunctionName": {"Ref": "GoodFunction"}, "Action": "lambda:InvokeFunction",
                         "Principal": "s3.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"},
                         "SourceArn": "arn:aws:s3:::my-bucket"}
        }
      }
    }
    """

    private func report(_ text: String, name: String) throws -> (PostureReport, String) {
        let path = try writeTempFile(name, text)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return (try TemplateScanner.standard().scan(text: text, path: path, now: fixedNow), path)
    }

    func testFailingTemplateFailsEveryStaticCheckWithCheckovIdsAndLines() throws {
        let (report, path) = try report(Self.failing, name: "template.yaml")
        let f = report.findings
        XCTAssertEqual(f.status("runtime-deprecated", "OrdersFunction"), .fail, "Globals Runtime python3.8 applies")
        XCTAssertEqual(f.status("runtime-deprecated", "ReportsFunction"), .pass)
        let secrets = try XCTUnwrap(f.finding("env-plaintext-secrets", "OrdersFunction"))
        XCTAssertEqual(secrets.status, .fail)
        XCTAssertEqual(secrets.ruleID, "CKV_AWS_45")
        XCTAssertTrue(secrets.message.contains("DB_PASSWORD") && secrets.message.contains("AWS_KEY"))
        XCTAssertFalse(secrets.message.contains("hunter2hunter2"), "secret values are never printed")
        XCTAssertEqual(secrets.location?.path, path)
        XCTAssertEqual(secrets.location?.line, 32, "line of the OrdersFunction logical id")
        XCTAssertEqual(f.finding("function-url-auth-none", "OrdersFunction")?.ruleID, "CKV_AWS_258")
        XCTAssertEqual(f.status("function-url-auth-none", "OrdersFunction"), .fail)
        XCTAssertEqual(f.status("function-public-policy", "ReportsFunction"), .fail)
        XCTAssertEqual(f.finding("function-public-policy", "ReportsFunction")?.ruleID, "CKV_AWS_301")
        XCTAssertEqual(f.status("layer-cross-account", "OrdersFunction"), .fail)
        for check in ["tracing-enabled", "reserved-concurrency", "dead-letter-queue", "vpc-configured", "code-signing",
                      "env-cmk-encryption", "lambda-insights", "role-per-function"] {
            XCTAssertEqual(f.status(check, "OrdersFunction"), .fail, check)
        }
        XCTAssertEqual(f.status("env-cmk-encryption", "ReportsFunction"), .pass, "no environment variables")
        // Role-level: the shared role is admin, escalates, exfiltrates, has a broad managed policy.
        for check in ["role-admin", "role-privilege-escalation", "role-data-exfiltration", "role-broad-managed-policy",
                      "role-least-privilege"] {
            XCTAssertEqual(f.status(check, "SharedRole"), .fail, check)
        }
        XCTAssertEqual(f.finding("role-privilege-escalation", "SharedRole")?.ruleID, "CKV_AWS_110")
        // SAM policy templates: S3ReadPolicy with BucketName "*" is every bucket; DynamoDBCrudPolicy on a named table is not.
        let exfil = try XCTUnwrap(f.finding("role-data-exfiltration", "ReaderFunctionRole"))
        XCTAssertEqual(exfil.status, .fail)
        XCTAssertTrue(exfil.message.contains("s3:GetObject"))
        XCTAssertFalse(exfil.message.contains("dynamodb"), exfil.message)
        XCTAssertEqual(f.status("role-admin", "ReaderFunctionRole"), .pass)
        XCTAssertEqual(f.status("role-per-function", "ReaderFunction"), .pass, "SAM generates one role per function")
        // Static scans never run live-only checks.
        XCTAssertNil(f.first { $0.properties["check_id"] == "role-active" || $0.properties["check_id"] == "config-records-lambda" })
    }

    func testPassingJSONTemplatePassesEveryStaticCheck() throws {
        let (report, _) = try report(Self.passing, name: "template.json")
        let notPassing = report.findings.filter { $0.status != .pass }
        XCTAssertEqual(notPassing.map { "\($0.ruleID) \($0.resource ?? ""): \($0.message)" }, [])
        let checked = Set(report.findings.compactMap { $0.properties["check_id"] })
        let catalogue = try CheckCatalogue.bundled()
        XCTAssertEqual(checked, Set(catalogue.checks.filter(\.static).map(\.id)), "every static check ran")
    }

    func testShortFormIntrinsicsAreParsed() throws {
        let yaml = """
        Resources:
          F:
            Type: AWS::Lambda::Function
            Properties:
              Role: !GetAtt R.Arn
              Runtime: !If [IsProd, python3.13, python3.12]
              Handler: !Join ["", [index, .handler]]
              Code: {ZipFile: !Base64 "x"}
              Environment:
                Variables:
                  A: !Sub "${AWS::Region}-x"
                  B: !Select [0, !GetAZs ""]
                  C: !ImportValue other
                  D: !FindInMap [M, K, V]
                  E: !Split [",", "a,b"]
                  G: !Cidr ["10.0.0.0/16", 2, 8]
                  H: !Condition C1
                  I: !Not [!Equals [a, b]]
                  J: !And [!Or [!Condition C1, !Condition C2], !Condition C3]
          R:
            Type: AWS::IAM::Role
            Properties: {AssumeRolePolicyDocument: {}}
        """
        let (report, _) = try report(yaml, name: "intrinsics.yaml")
        XCTAssertEqual(report.findings.status("runtime-deprecated", "F"), .manual, "!If runtime cannot be resolved statically")
        XCTAssertEqual(report.findings.status("role-admin", "R"), .pass)
    }

    func testExternalRoleAndUnknownPolicyTemplateAreManualNotPass() throws {
        let yaml = """
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          DbPassword: {Type: String, NoEcho: true}
          LayerAccount: {Type: String}
        Resources:
          External:
            Type: AWS::Serverless::Function
            Properties: {Runtime: python3.13, Handler: a.b, CodeUri: s, Role: "arn:aws:iam::111122223333:role/outside"}
          Layered:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.13
              Handler: a.b
              CodeUri: s
              Layers: [!Ref OwnLayer, !Sub "arn:aws:lambda:${AWS::Region}:${LayerAccount}:layer:x:1"]
              Environment:
                Variables:
                  DB_PASSWORD: !Ref DbPassword
          OwnLayer:
            Type: AWS::Lambda::LayerVersion
            Properties: {Content: s}
          Odd:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.13
              Handler: a.b
              CodeUri: s
              Policies:
                - NotARealPolicyTemplate: {X: y}
        """
        let (report, _) = try report(yaml, name: "external.yaml")
        XCTAssertEqual(report.findings.status("layer-cross-account", "Layered"), .manual, "unknown publisher account is not a PASS")
        XCTAssertEqual(report.findings.status("env-plaintext-secrets", "Layered"), .fail, "a NoEcho parameter still lands in plaintext")
        XCTAssertEqual(report.findings.status("role-admin", "External"), .manual)
        XCTAssertEqual(report.findings.status("role-per-function", "External"), .manual)
        let odd = try XCTUnwrap(report.findings.finding("role-admin", "OddRole"))
        XCTAssertEqual(odd.status, .manual)
        XCTAssertTrue(odd.message.contains("unknown SAM policy template NotARealPolicyTemplate"), odd.message)
    }

    func testMalformedTemplatesGiveClearErrors() throws {
        let cases: [(String, String)] = [
            ("Resources: [unclosed", "not valid YAML"),
            ("Foo: 1", "no Resources section"),
            ("Resources:\n  X:\n    Properties: {}\n", "has no Type"),
            ("Resources:\n  X:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !Bogus x\n", "unknown tag !Bogus"),
            ("", "empty"),
            ("Resources:\n  X: " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "\n", "nesting deeper than"),
            ("Resources:\n  X: 5\n", "resource X must be a mapping"),
            ("- a\n- b\n", "mapping at the top level"),
        ]
        for (text, expected) in cases {
            let path = try writeTempFile("bad.yaml", text)
            XCTAssertThrowsError(try TemplateScan.scan(path: path)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(expected) && message.contains(path), message)
            }
        }
    }

    func testMalformedPolicyInsideTemplateIsAnErrorNotAPass() throws {
        let yaml = """
        Resources:
          R:
            Type: AWS::IAM::Role
            Properties:
              Policies:
                - PolicyName: broken
                  PolicyDocument: "this is not a policy"
          F:
            Type: AWS::Lambda::Function
            Properties: {Role: !GetAtt R.Arn, Runtime: python3.13, Handler: a.b, Code: {ZipFile: x}}
        """
        let (report, _) = try report(yaml, name: "badpolicy.yaml")
        let admin = try XCTUnwrap(report.findings.finding("role-admin", "R"))
        XCTAssertEqual(admin.status, .error)
        XCTAssertTrue(admin.message.contains("the policy is a string"), admin.message)
    }

    func testIsTemplateAndScanEntryPoint() throws {
        let path = try writeTempFile("template.yaml", Self.failing)
        XCTAssertTrue(TemplateScan.isTemplate(path: path))
        let other = try writeTempFile("config.yaml", "name: not a template\nitems: [1, 2]\n")
        XCTAssertFalse(TemplateScan.isTemplate(path: other))
        let framework = try writeTempFile("serverless.yml", "service: x\nresources:\n  Resources:\n    Q:\n      Type: AWS::SQS::Queue\n")
        XCTAssertFalse(TemplateScan.isTemplate(path: framework), "Serverless Framework files nest Resources")
        let plain = try writeTempFile("stack.yaml", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
        XCTAssertTrue(TemplateScan.isTemplate(path: plain))
        XCTAssertTrue(TemplateScan.isTemplate(path: try writeTempFile("t.json", Self.passing)))
        let findings = try TemplateScan.scan(path: path)
        XCTAssertFalse(findings.contains { $0.status == .pass })
        XCTAssertTrue(findings.contains { $0.ruleID == "CKV_AWS_45" && $0.status == .fail })
    }
}
