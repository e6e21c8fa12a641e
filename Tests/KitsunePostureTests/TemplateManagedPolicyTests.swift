import Foundation
import KitsuneFindings
import XCTest
@testable import KitsunePosture

/// AWS managed policies attached in templates are judged from their bundled documents, and a realistic
/// SAM template produces real verdicts, never "could not evaluate" shown as a failure.
final class TemplateManagedPolicyTests: XCTestCase {
    private func fixture() throws -> (PostureReport, String) {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "orders-service", withExtension: "yaml", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return (try TemplateScanner.standard().scan(text: text, path: "orders-service.yaml", now: fixedNow), url.path)
    }

    func testBundledDataNamesItsSourceAndHasTheCommonLambdaPolicies() throws {
        let data = try AWSManagedPolicies.bundled()
        XCTAssertTrue(data.source.contains("moto") || data.source.contains("AWS IAM"), data.source)
        XCTAssertNotNil(data.generated.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression), data.generated)
        XCTAssertGreaterThan(data.count, 1000)
        for name in ["AmazonS3FullAccess", "AmazonDynamoDBFullAccess", "AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole",
                     "AdministratorAccess", "AmazonSQSFullAccess", "AmazonSNSFullAccess", "AWSLambdaExecute", "AWSLambdaRole",
                     "PowerUserAccess", "IAMFullAccess", "AmazonDynamoDBReadOnlyAccess", "AmazonS3ReadOnlyAccess",
                     "AWSXRayDaemonWriteAccess", "AWSLambda_FullAccess", "SecretsManagerReadWrite"] {
            let policy = try XCTUnwrap(data.policy(arnOrName: name), name)
            XCTAssertNoThrow(try PolicyDocument.parse(value: policy.document, source: name), name)
        }
        XCTAssertEqual(data.policy(arnOrName: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")?.name,
                       "AWSLambdaBasicExecutionRole")
        XCTAssertNotNil(data.policy(arnOrName: "arn:aws-us-gov:iam::aws:policy/AmazonS3FullAccess"), "other partitions")
        XCTAssertNil(data.policy(arnOrName: "arn:aws:iam::111122223333:policy/AmazonS3FullAccess"), "customer managed, same name")
        XCTAssertNil(data.policy(arnOrName: "NoSuchPolicyName"))
    }

    func testRealisticSAMTemplateIsJudgedNotDeferred() throws {
        let (report, _) = try fixture()
        let f = report.findings
        // Every role check reached a verdict: the attached AWS managed policies were read.
        let undecided = f.filter { ($0.properties["check_id"] ?? "").hasPrefix("role-") && ($0.status == .manual || $0.status == .error) }
        XCTAssertEqual(undecided.map { "\($0.resource ?? "") \($0.properties["check_id"] ?? ""): \($0.message)" }, [])
        XCTAssertEqual(f.filter { $0.status == .manual }.map { "\($0.resource ?? ""): \($0.message)" }, [],
                       "nothing in this template needs a human to decide")

        // AmazonS3FullAccess: s3:* on every resource, found in the policy's own document.
        let s3 = try XCTUnwrap(f.finding("role-least-privilege", "ReceiptFunctionRole"))
        XCTAssertEqual(s3.status, .fail)
        XCTAssertTrue(s3.message.contains("AmazonS3FullAccess") && s3.message.contains("s3:*"), s3.message)
        XCTAssertEqual(s3.ruleID, "CKV_AWS_111")
        let s3Exfil = try XCTUnwrap(f.finding("role-data-exfiltration", "ReceiptFunctionRole"))
        XCTAssertEqual(s3Exfil.status, .fail)
        XCTAssertTrue(s3Exfil.message.contains("s3:GetObject on any resource"), s3Exfil.message)
        XCTAssertEqual(f.status("role-broad-managed-policy", "ReceiptFunctionRole"), .fail)
        XCTAssertEqual(f.status("role-admin", "ReceiptFunctionRole"), .pass)

        // Policies outside the broad list are evaluated too (on main they were "document not available").
        let execute = try XCTUnwrap(f.finding("role-data-exfiltration", "UploadHandlerFunctionRole"))
        XCTAssertEqual(execute.status, .fail, "AWSLambdaExecute: s3:GetObject/PutObject on arn:aws:s3:::*")
        XCTAssertTrue(execute.message.contains("s3:PutObject"), execute.message)
        let readOnly = try XCTUnwrap(f.finding("role-data-exfiltration", "ListOrdersFunctionRole"))
        XCTAssertEqual(readOnly.status, .fail, "AmazonDynamoDBReadOnlyAccess: dynamodb:Scan on every table")
        XCTAssertTrue(readOnly.message.contains("dynamodb:Scan"), readOnly.message)
        XCTAssertEqual(f.status("role-least-privilege", "InvokerFunctionRole"), .fail, "AWSLambdaRole: lambda:InvokeFunction on *")
        XCTAssertEqual(f.status("role-privilege-escalation", "InvokerFunctionRole"), .pass)
        XCTAssertEqual(f.status("role-data-exfiltration", "ArchiveFunctionRole"), .fail, "AmazonS3ReadOnlyAccess: s3:Get* on *")

        // Administrator and IAM power.
        XCTAssertEqual(f.status("role-admin", "AdminRole"), .fail)
        let iam = try XCTUnwrap(f.finding("role-privilege-escalation", "UserSyncFunctionRole"))
        XCTAssertEqual(iam.status, .fail, "IAMFullAccess: iam:* writes any policy")
        XCTAssertTrue((iam.properties["escalation_paths"] ?? "").contains("put-role-policy"), iam.properties.description)
        XCTAssertEqual(f.status("role-admin", "ReportRole"), .fail, "PowerUserAccess: NotAction iam:*/organizations:* on *")
        XCTAssertEqual(f.status("role-data-exfiltration", "CreateOrderFunctionRole"), .fail, "AmazonDynamoDBFullAccess: dynamodb:Scan on *")

        // Narrow policies AWS scopes for Lambda pass: SAM attaches AWSLambdaBasicExecutionRole to every role.
        for role in ["HealthFunctionRole", "GetOrderFunctionRole", "VpcWorkerFunctionRole"] {
            for check in ["role-least-privilege", "role-admin", "role-privilege-escalation", "role-data-exfiltration",
                          "role-broad-managed-policy"] {
                XCTAssertEqual(f.status(check, role), .pass, "\(check) \(role): \(f.finding(check, role)?.message ?? "")")
            }
        }

        // A bare account id as the Principal of an AWS::Lambda::Permission is another account.
        let partner = try XCTUnwrap(f.finding("function-cross-account-policy", "PartnerWebhookFunction"))
        XCTAssertEqual(partner.status, .fail)
        XCTAssertTrue(partner.message.contains("210987654321"), partner.message)
        XCTAssertEqual(f.status("function-cross-account-policy", "ReportFunction"), .pass, "events.amazonaws.com with SourceArn")
    }

    func testTemplateReportNamesTheDataAndTheTableKeepsManualOutOfSeverities() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "orders-service", withExtension: "yaml", subdirectory: "Fixtures"))
        let (findings, notes) = try TemplateScan.report(path: url.path)
        XCTAssertTrue(notes.contains { $0.contains("AWS managed policy data") && $0.contains("refresh-managed-policies") }, notes.description)
        XCTAssertFalse(findings.contains { $0.status == .pass })
        // One role attaching a managed policy the data does not have: MANUAL, in its own section.
        let yaml = """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.13
              Handler: a.b
              CodeUri: s
              Policies: [AWSNoSuchManagedPolicyForKitsuneTests]
        """
        let path = try writeTempFile("unknown-policy.yaml", yaml)
        let unknown = try TemplateScan.scan(path: path)
        let manual = unknown.filter { $0.status == .manual }
        XCTAssertFalse(manual.isEmpty)
        XCTAssertTrue(manual.allSatisfy { $0.message.contains("AWSNoSuchManagedPolicyForKitsuneTests") }, manual.map(\.message).description)
        XCTAssertTrue(manual.contains { $0.message.contains("not in Kitsune's AWS managed policy data") })
        let table = String(decoding: try ReportFormat.table.render(ScanReport(target: path, startedAt: fixedNow, finishedAt: fixedNow,
                                                                           findings: unknown)), as: UTF8.self)
        let section = try XCTUnwrap(table.range(of: "COULD NOT EVALUATE (MANUAL) (\(manual.count))"))
        for finding in manual {
            let at = try XCTUnwrap(table.range(of: finding.message))
            XCTAssertTrue(at.lowerBound > section.lowerBound, "MANUAL listed under a severity:\n\(table)")
        }
        XCTAssertFalse(table.contains("CRITICAL ("), table)
        XCTAssertFalse(FailThreshold.low.isExceeded(by: manual), "MANUAL never fails the gate")
    }
}
