import Foundation
import KitsuneFindings
import XCTest
@testable import KitsunePosture

final class SnapshotChecksTests: XCTestCase {
    private func run(_ functions: [LambdaFunction], roles: [String: ExecutionRole]? = nil,
                     regions: [RegionSnapshot] = [], incomplete: [String] = [],
                     trusted: Set<String> = []) throws -> PostureReport {
        let roles = roles ?? ["role-a": role("role-a", inline: [#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#])]
        let snapshot = AccountSnapshot(accountID: "111122223333", regions: regions, functions: functions, roles: roles,
                                       incomplete: incomplete)
        return try PostureEngine.standard().run(snapshot, now: fixedNow, trustedAccounts: trusted)
    }

    func testCompliantFunctionPassesEveryCheck() throws {
        let regions = [RegionSnapshot(region: "eu-west-1", configRecorder: .known(.init(exists: true, recording: true, recordsLambda: true)))]
        let report = try run([compliantFunction()], regions: regions)
        XCTAssertEqual(report.findings.filter { $0.status != .pass }.map { "\($0.ruleID): \($0.message)" }, [])
        XCTAssertEqual(Set(report.findings.map(\.ruleID)), Set(try CheckCatalogue.bundled().checks.map(\.id)))
        XCTAssertFalse(report.isPartial)
    }

    func testPublicResourcePolicyAndFunctionURL() throws {
        var fn = compliantFunction()
        fn.resourcePolicy = .known(.text(#"{"Version":"2012-10-17","Statement":[{"Sid":"open","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:fn"}]}"#))
        fn.url = .known(FunctionURLConfig(authType: "NONE", url: "https://x.lambda-url.eu-west-1.on.aws/"))
        let report = try run([fn])
        XCTAssertEqual(report.findings.status("function-public-policy", fn.arn), .fail)
        XCTAssertEqual(report.findings.status("function-url-auth-none", fn.arn), .fail)
        XCTAssertEqual(report.findings.finding("function-public-policy", fn.arn)?.severity, .critical)

        var aws = compliantFunction()
        aws.resourcePolicy = .known(.text(#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:eu-west-1:111122223333:abc/*"}}}]}"#))
        XCTAssertEqual(try run([aws]).findings.status("function-public-policy", aws.arn), .manual, "Principal * narrowed by SourceArn needs a human")
    }

    func testCrossAccountPolicyAndLayers() throws {
        var fn = compliantFunction()
        fn.resourcePolicy = .known(.text(#"{"Statement":[{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction"},{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction"}]}"#))
        fn.layers = .known(["arn:aws:lambda:eu-west-1:444455556666:layer:tools:1",
                            "arn:aws:lambda:eu-west-1:111122223333:layer:own:2",
                            "arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension:53"])
        let report = try run([fn])
        let cross = try XCTUnwrap(report.findings.finding("function-cross-account-policy", fn.arn))
        XCTAssertEqual(cross.status, .fail)
        XCTAssertTrue(cross.message.contains("444455556666") && cross.message.contains("s3.amazonaws.com"), cross.message)
        let layers = try XCTUnwrap(report.findings.finding("layer-cross-account", fn.arn))
        XCTAssertEqual(layers.status, .fail)
        XCTAssertTrue(layers.message.contains("layer:tools") && !layers.message.contains("layer:own"), layers.message)
        // Declared trusted: passes.
        let trusted = try run([fn], trusted: ["444455556666"])
        XCTAssertEqual(trusted.findings.status("layer-cross-account", fn.arn), .pass)
    }

    func testUnavailableFactsAreManualNeverPass() throws {
        var fn = compliantFunction()
        fn.resourcePolicy = .unavailable("AccessDenied for lambda:GetPolicy")
        fn.url = .unavailable("AccessDenied for lambda:GetFunctionUrlConfig")
        fn.codeSigningConfigArn = .unavailable("AccessDenied for lambda:GetFunctionCodeSigningConfig")
        fn.environment = .unavailable("AccessDenied for lambda:GetFunctionConfiguration")
        let regions = [RegionSnapshot(region: "eu-west-1", configRecorder: .unavailable("AccessDenied for config:DescribeConfigurationRecorders"))]
        let report = try run([fn], regions: regions)
        for check in ["function-public-policy", "function-cross-account-policy", "function-url-auth-none", "code-signing",
                      "env-plaintext-secrets", "env-cmk-encryption"] {
            let finding = try XCTUnwrap(report.findings.finding(check, fn.arn), check)
            XCTAssertEqual(finding.status, .manual, check)
            XCTAssertTrue(finding.message.contains("AccessDenied for lambda:"), finding.message)
        }
        XCTAssertEqual(report.findings.first { $0.ruleID == "config-records-lambda" }?.status, .manual)
    }

    func testMalformedResourcePolicyIsError() throws {
        var fn = compliantFunction()
        fn.resourcePolicy = .known(.text("{\"Statement\": [}"))
        XCTAssertEqual(try run([fn]).findings.status("function-public-policy", fn.arn), .error)
    }

    func testSharedMissingAndUnreadableRoles() throws {
        let a = compliantFunction(name: "a"), b = compliantFunction(name: "b")
        var c = compliantFunction(name: "c", roleKey: "gone")
        c.roleArn = "arn:aws:iam::111122223333:role/gone"
        let gone = ExecutionRole(key: "gone", arn: "arn:aws:iam::111122223333:role/gone", name: "gone", exists: .known(false),
                                 managedPolicies: .known([]), inlinePolicies: .known([]))
        var d = compliantFunction(name: "d", roleKey: nil)
        d.roleKey = .unavailable("AccessDenied for iam:GetRole")
        let report = try run([a, b, c, d], roles: ["role-a": role("role-a"), "gone": gone])
        XCTAssertEqual(report.findings.status("role-per-function", a.arn), .fail)
        XCTAssertTrue(report.findings.finding("role-per-function", a.arn)?.message.contains("b") ?? false)
        XCTAssertEqual(report.findings.status("role-per-function", c.arn), .pass)
        XCTAssertEqual(report.findings.status("role-active", c.arn), .fail)
        XCTAssertEqual(report.findings.status("role-active", a.arn), .pass)
        XCTAssertEqual(report.findings.status("role-active", d.arn), .manual)
        XCTAssertEqual(report.findings.status("role-admin", d.arn), .manual, "role checks for an unreadable role are MANUAL")
        XCTAssertEqual(report.findings.status("role-admin", gone.arn), .error)
    }

    func testConfigRecorderStates() throws {
        func status(_ s: ConfigRecorderStatus) throws -> CheckStatus? {
            try run([], regions: [RegionSnapshot(region: "us-east-1", configRecorder: .known(s))]).findings.first?.status
        }
        XCTAssertEqual(try status(.init(exists: false, recording: false, recordsLambda: false)), .fail)
        XCTAssertEqual(try status(.init(exists: true, recording: false, recordsLambda: true)), .fail)
        XCTAssertEqual(try status(.init(exists: true, recording: true, recordsLambda: false)), .fail)
        XCTAssertEqual(try status(.init(exists: true, recording: true, recordsLambda: true)), .pass)
    }

    func testSecretsInEnvironment() throws {
        var fn = compliantFunction()
        fn.environment = .known([
            "STRIPE_KEY": .string("sk_live_abcdefghijklmnopqrstuvwx"),
            "DATABASE_URL": .string("postgres://app:s3cr3tpw@db.internal:5432/app"),
            "API_TOKEN": .string("0123456789abcdef"),
            "DB_SECRET_ARN": .string("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"),
            "TOKEN_TTL": .string("3600"),
            "GREETING": .string("hello"),
        ])
        let finding = try XCTUnwrap(try run([fn]).findings.finding("env-plaintext-secrets", fn.arn))
        XCTAssertEqual(finding.status, .fail)
        for name in ["STRIPE_KEY", "DATABASE_URL", "API_TOKEN"] { XCTAssertTrue(finding.message.contains(name), name) }
        for name in ["DB_SECRET_ARN", "TOKEN_TTL", "GREETING"] { XCTAssertFalse(finding.message.contains(name), name) }
        XCTAssertFalse(finding.message.contains("s3cr3tpw"))
    }

    func testPartialSnapshotIsMarked() throws {
        let report = try run([compliantFunction()], incomplete: ["lambda:ListFunctions in us-east-1 failed on page 2: throttled"])
        XCTAssertTrue(report.isPartial)
    }
}

final class RuntimeTableTests: XCTestCase {
    func testTableIsDatedAndSourced() throws {
        let table = try RuntimeTable.bundled()
        XCTAssertTrue(table.source.hasPrefix("https://docs.aws.amazon.com/lambda/"))
        XCTAssertNotNil(RuntimeTable.day(table.compiled))
        XCTAssertGreaterThan(table.runtimes.count, 30)
        XCTAssertEqual(Set(table.runtimes.map(\.id)).count, table.runtimes.count, "no duplicate identifiers")
    }

    func testDeprecationIsRelativeToTheGivenDay() throws {
        let table = try RuntimeTable.bundled()
        let before = try XCTUnwrap(RuntimeTable.day("2026-04-29")), on = try XCTUnwrap(RuntimeTable.day("2026-04-30"))
        guard case .supported(_, let days) = table.status(of: "nodejs20.x", on: before) else { return XCTFail("supported before") }
        XCTAssertEqual(days, 1)
        guard case .deprecated = table.status(of: "nodejs20.x", on: on) else { return XCTFail("deprecated on the day") }
        guard case .deprecated = table.status(of: "python3.8", on: fixedNow) else { return XCTFail("python3.8") }
        guard case .supported = table.status(of: "python3.13", on: fixedNow) else { return XCTFail("python3.13") }
        XCTAssertEqual(table.status(of: "cobol85", on: fixedNow), .unknown("cobol85"))
    }

    func testBadTableIsRejectedClearly() {
        let bad = #"{"source":"x","compiled":"2026-01-01","runtimes":[{"id":"a","name":"A","deprecation":"soon"}]}"#
        XCTAssertThrowsError(try RuntimeTable(json: Data(bad.utf8), source: "t.json")) { error in
            XCTAssertTrue("\(error)".contains("'a'") && "\(error)".contains("soon"))
        }
    }

    func testUnknownAndContainerRuntimesAreManual() throws {
        var fn = compliantFunction()
        fn.runtime = .known("python9.9")
        var image = compliantFunction(name: "img")
        image.runtime = .known(nil)
        let report = try PostureEngine.standard().run(AccountSnapshot(accountID: nil, regions: [], functions: [fn, image],
                                                                      roles: ["role-a": role("role-a")]), now: fixedNow)
        XCTAssertEqual(report.findings.status("runtime-deprecated", fn.arn), .manual)
        XCTAssertEqual(report.findings.status("runtime-deprecated", image.arn), .manual)
    }
}

final class CatalogueTests: XCTestCase {
    func testEveryCheckHasLogicAndMappings() throws {
        let catalogue = try CheckCatalogue.bundled()
        XCTAssertEqual(try CheckRegistry.standard().unimplemented(in: catalogue), [])
        let cis = Set(catalogue.checks.map(\.cis).filter { !$0.isEmpty })
        XCTAssertEqual(cis, Set((1...12).map { "4.\($0)" }), "CIS Compute 4.1–4.12 are all covered")
        for id in ["CKV_AWS_45", "CKV_AWS_50", "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173", "CKV_AWS_258", "CKV_AWS_272"] {
            XCTAssertTrue(catalogue.checks.contains { $0.checkov.contains(id) }, id)
        }
        for check in catalogue.checks { XCTAssertFalse(check.remediation.isEmpty, check.id) }
    }

    func testDuplicateIdsAndBadYamlAreRejected() {
        let dup = "version: 1\nbenchmark: b\nchecks:\n" + String(repeating: "  - {id: a, title: t, cis: '', prowler: [], checkov: [], severity: low, scope: function, static: true, remediation: r}\n", count: 2)
        XCTAssertThrowsError(try CheckCatalogue(yaml: dup, source: "c.yaml")) { XCTAssertTrue("\($0)".contains("duplicate check id 'a'")) }
        XCTAssertThrowsError(try CheckCatalogue(yaml: "checks: [", source: "c.yaml")) { XCTAssertTrue("\($0)".contains("c.yaml")) }
    }

    func testSAMPolicyTemplatesExpand() throws {
        let sam = try SAMPolicyTemplates.bundled()
        let doc = try PolicyDocument.parse(value: try sam.expand("DynamoDBCrudPolicy", arguments: ["TableName": .string("orders")]), source: "t")
        XCTAssertEqual([doc].grant(action: "dynamodb:PutItem", resource: "arn:aws:dynamodb:${AWS.Region}:${AWS.AccountId}:table/orders").level, .unconditional)
        XCTAssertEqual([doc].grant(action: "dynamodb:PutItem", resource: "arn:aws:dynamodb:${AWS.Region}:${AWS.AccountId}:table/other").level, .none)
        XCTAssertThrowsError(try sam.expand("NoSuchPolicy", arguments: [:]))
        XCTAssertThrowsError(try sam.expand("S3ReadPolicy", arguments: [:])) { XCTAssertTrue("\($0)".contains("BucketName")) }
    }
}
