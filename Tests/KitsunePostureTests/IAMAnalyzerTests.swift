import Foundation
import KitsuneFindings
import XCTest
@testable import KitsunePosture

final class IAMAnalyzerTests: XCTestCase {
    let risk = try! IAMRiskTable.bundled()

    private func outcome(_ check: String, _ documents: [String], managed: [ManagedPolicyAttachment] = []) -> CheckOutcome? {
        let r = role("role-a", inline: documents, managed: managed)
        let fn = compliantFunction()
        let snapshot = AccountSnapshot(accountID: "111122223333", regions: [], functions: [fn], roles: ["role-a": r])
        let context = CheckContext(snapshot: snapshot, runtimes: try! .bundled(), risk: risk, now: fixedNow)
        return RolePermissionChecks().evaluate(check, on: .role(r, functions: [fn]), context: context)
    }

    func testWildcardMatching() {
        XCTAssertTrue(Wildcard.matches("s3:Get*", "s3:GetObject", caseInsensitive: true))
        XCTAssertTrue(Wildcard.matches("S3:GET*", "s3:getobject", caseInsensitive: true))
        XCTAssertFalse(Wildcard.matches("s3:Get*", "s3:PutObject", caseInsensitive: true))
        XCTAssertTrue(Wildcard.matches("iam:?ass*", "iam:PassRole", caseInsensitive: true))
        XCTAssertFalse(Wildcard.matches("iam:?assRole", "iam:PPassRole", caseInsensitive: true))
        XCTAssertTrue(Wildcard.matches("*", ""))
        XCTAssertTrue(Wildcard.matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"))
        XCTAssertFalse(Wildcard.matches("arn:aws:s3:::b/*", "arn:aws:s3:::B/x"), "resources are case-sensitive")
        XCTAssertTrue(Wildcard.matches("a*b*c", "aXXbYYc"))
        XCTAssertFalse(Wildcard.matches("a*b*c", "aXXbYY"))
    }

    func testStatementAsObjectOrArrayAndStringOrArrayFields() throws {
        let object = try PolicyDocument.parse(text: #"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#, source: "t")
        let array = try PolicyDocument.parse(text: #"{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}"#, source: "t")
        XCTAssertEqual(object.statements.count, 1)
        XCTAssertEqual(object.statements[0].actions, array.statements[0].actions)
        XCTAssertEqual([object].grant(action: "s3:GetObject", resource: "arn:aws:s3:::x/y").level, .unconditional)
    }

    func testURLEncodedDocumentsAsIAMReturnsThem() throws {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"
        let document = try PolicyDocument.parse(text: encoded, source: "inline")
        XCTAssertEqual(document.version, "2012-10-17")
        XCTAssertEqual(outcome("role-admin", [encoded])?.status, .fail)
    }

    func testMalformedPoliciesGiveClearErrorsNeverPass() {
        let cases: [(String, String)] = [
            ("{not json", "invalid JSON"),
            (#""just a string""#, "the policy is a string"),
            (#"{"Version": "2012-10-17"}"#, "no \"Statement\""),
            (#"{"Statement": [{"Action": "s3:*", "Resource": "*"}]}"#, "Effect is missing"),
            (#"{"Statement": [{"Effect": "Allow", "Resource": "*"}]}"#, "neither Action nor NotAction"),
            (#"{"Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}]}"#, "Action must be a string or an array"),
            (#"{"Statement": "nope"}"#, "must be an object or an array"),
            ("", "empty"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try PolicyDocument.parse(text: text, source: "inline policy \"x\" of role r")) { error in
                XCTAssertTrue("\(error)".contains(expected) && "\(error)".contains("inline policy \"x\""), "\(error)")
            }
            for check in ["role-admin", "role-least-privilege", "role-privilege-escalation", "role-data-exfiltration"] {
                XCTAssertEqual(outcome(check, [text])?.status, .error, "\(check) on \(text)")
            }
        }
    }

    func testStringPolicyThatContainsAPolicyIsRead() throws {
        let inner = #"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        let document = try PolicyDocument.parse(value: .string(inner), source: "template")
        XCTAssertEqual(document.statements.count, 1)
    }

    func testAdminByStarStarByNotActionAndByManagedPolicy() {
        XCTAssertEqual(outcome("role-admin", [#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#])?.status, .fail)
        XCTAssertEqual(outcome("role-admin", [#"{"Statement":[{"Effect":"Allow","Action":"*:*","Resource":"*"}]}"#])?.status, .fail)
        XCTAssertEqual(outcome("role-admin", [#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#])?.status, .fail,
                       "NotAction iam:* still allows every other service")
        XCTAssertEqual(outcome("role-admin", [#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#])?.status, .pass)
        let admin = ManagedPolicyAttachment(arn: "arn:aws:iam::aws:policy/AdministratorAccess", name: "AdministratorAccess")
        XCTAssertEqual(outcome("role-admin", [], managed: [admin])?.status, .fail)
        XCTAssertEqual(outcome("role-broad-managed-policy", [], managed: [admin])?.status, .fail)
        let basic = ManagedPolicyAttachment(arn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                                            name: "AWSLambdaBasicExecutionRole")
        XCTAssertEqual(outcome("role-broad-managed-policy", [], managed: [basic])?.status, .pass)
        XCTAssertEqual(outcome("role-admin", [], managed: [basic])?.status, .pass)
    }

    func testNotResourceAndExplicitDeny() {
        // NotResource excluding one bucket still covers every other resource.
        let notResource = #"{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","NotResource":"arn:aws:secretsmanager:*:*:secret:prod-*"}]}"#
        XCTAssertEqual(outcome("role-data-exfiltration", [notResource])?.status, .fail)
        XCTAssertEqual(outcome("role-least-privilege", [notResource])?.status, .fail)
        // An unconditional Deny removes the grant.
        let denied = #"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#
        let exfil = outcome("role-data-exfiltration", [denied])
        XCTAssertEqual(exfil?.status, .fail, "s3:PutObject is still allowed")
        XCTAssertFalse(exfil?.message.contains("s3:GetObject on any") ?? true)
    }

    func testConditionIsNotedAsNarrowing() throws {
        let conditional = #"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:ResourceAccount":"111122223333"}}}]}"#
        let result = try XCTUnwrap(outcome("role-data-exfiltration", [conditional]))
        XCTAssertEqual(result.status, .fail)
        XCTAssertEqual(result.severity, .medium, "a conditional grant is flagged with lower severity")
        XCTAssertTrue(result.message.contains("aws:resourceaccount"), result.message)
    }

    func testScopedPolicyPasses() {
        let scoped = #"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::orders-bucket/*"},{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/fn:*"},{"Effect":"Allow","Action":"xray:PutTraceSegments","Resource":"*"}]}"#
        for check in ["role-admin", "role-least-privilege", "role-privilege-escalation", "role-data-exfiltration", "role-broad-managed-policy"] {
            XCTAssertEqual(outcome(check, [scoped])?.status, .pass, check)
        }
    }

    func testEscalationCombinations() throws {
        func paths(_ actions: [String], resource: String = "*") -> String? {
            let json = "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\(actions.map { "\"\($0)\"" }.joined(separator: ","))],\"Resource\":\"\(resource)\"}]}"
            let o = outcome("role-privilege-escalation", [json])
            return o?.status == .fail ? o?.properties["escalation_paths"] : ""
        }
        XCTAssertEqual(paths(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]), "passrole-createfunction-invoke")
        XCTAssertEqual(paths(["iam:PassRole", "lambda:CreateFunction"]), "", "PassRole + CreateFunction alone cannot run the code")
        XCTAssertEqual(paths(["iam:PutRolePolicy"]), "put-role-policy")
        XCTAssertEqual(paths(["iam:AttachRolePolicy"]), "attach-role-policy")
        XCTAssertEqual(paths(["iam:CreatePolicyVersion"]), "create-policy-version")
        XCTAssertEqual(paths(["iam:SetDefaultPolicyVersion"]), "set-default-policy-version")
        XCTAssertEqual(paths(["sts:AssumeRole"]), "assume-any-role")
        XCTAssertEqual(paths(["sts:AssumeRole"], resource: "arn:aws:iam::111122223333:role/reader"), "", "a named role is not 'any role'")
        XCTAssertEqual(paths(["lambda:UpdateFunctionCode"]), "update-function-code")
        XCTAssertEqual(paths(["iam:Put*"]), "put-role-policy,put-user-policy", "wildcards expand to the dangerous actions")
        let full = try XCTUnwrap(outcome("role-privilege-escalation", [#"{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}"#]))
        XCTAssertEqual(full.status, .fail)
        XCTAssertNotNil(full.detail, "a narrower policy is proposed")
    }

    func testLeastPrivilegeProposesANarrowerPolicyScopedToAccountAndRegion() throws {
        let broad = #"{"Statement":[{"Effect":"Allow","Action":["dynamodb:*","s3:Get*"],"Resource":"*"}]}"#
        let result = try XCTUnwrap(outcome("role-least-privilege", [broad]))
        XCTAssertEqual(result.status, .fail)
        let detail = try XCTUnwrap(result.detail)
        XCTAssertTrue(detail.contains("arn:aws:dynamodb:eu-west-1:111122223333:table/TABLE_NAME"), detail)
        XCTAssertTrue(detail.contains("\"s3:GetObject\""), detail)
        // The proposal itself is a valid policy document.
        let json = String(detail[detail.firstIndex(of: "{")!...])
        XCTAssertNoThrow(try PolicyDocument.parse(text: json, source: "proposal"))
    }

    func testUnreadablePoliciesAreManualNotPass() {
        let r = ExecutionRole(key: "role-a", arn: "arn:aws:iam::111122223333:role/role-a", name: "role-a", exists: .known(true),
                              managedPolicies: .unavailable("AccessDenied for iam:ListAttachedRolePolicies"),
                              inlinePolicies: .known([]))
        let fn = compliantFunction()
        let snapshot = AccountSnapshot(accountID: "111122223333", regions: [], functions: [fn], roles: ["role-a": r])
        let context = CheckContext(snapshot: snapshot, runtimes: try! .bundled(), risk: risk, now: fixedNow)
        for check in RolePermissionChecks().checkIDs {
            let result = RolePermissionChecks().evaluate(check, on: .role(r, functions: [fn]), context: context)
            XCTAssertEqual(result?.status, .manual, check)
            XCTAssertTrue(result?.message.contains("iam:ListAttachedRolePolicies") ?? false, check)
        }
    }
}
