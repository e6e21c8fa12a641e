import Foundation
import XCTest
import KitsuneFindings
@testable import KitsunePosture

extension XCTestCase {
    /// Writes `text` to a fresh file in a temporary directory and returns its path; the directory is
    /// removed when the test ends.
    func writeTempFile(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-posture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

/// A fixed "today" for deterministic runtime verdicts: 2026-11-21.
let fixedNow: Date = {
    var c = DateComponents()
    c.year = 2026; c.month = 11; c.day = 21
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    return cal.date(from: c)!
}()

extension Array where Element == Finding {
    /// The status of `checkID` (catalogue id) for `resource`, if reported.
    func status(_ checkID: String, _ resource: String) -> CheckStatus? {
        first { $0.properties["check_id"] == checkID && $0.resource == resource }?.status
    }

    func finding(_ checkID: String, _ resource: String) -> Finding? {
        first { $0.properties["check_id"] == checkID && $0.resource == resource }
    }
}

/// A function with every fact known and compliant; tests change one fact at a time.
func compliantFunction(name: String = "fn", account: String = "111122223333", roleKey: String? = "role-a",
                       region: String = "eu-west-1") -> LambdaFunction {
    LambdaFunction(
        name: name, arn: "arn:aws:lambda:\(region):\(account):function:\(name)", region: region, account: account,
        runtime: .known("python3.13"), roleKey: .known(roleKey), roleArn: roleKey.map { "arn:aws:iam::\(account):role/\($0)" },
        environment: .known(["TABLE_NAME": .string("orders")]),
        kmsKeyArn: .known("arn:aws:kms:\(region):\(account):key/1234"), tracingMode: .known("Active"),
        layers: .known(["arn:aws:lambda:\(region):580247275435:layer:LambdaInsightsExtension:53"]),
        inVPC: .known(true), reservedConcurrency: .known(true), deadLetterTarget: .known("arn:aws:sqs:\(region):\(account):dlq"),
        codeSigningConfigArn: .known("arn:aws:lambda:\(region):\(account):code-signing-config:csc-1"),
        url: .known(nil), resourcePolicy: .known(nil), tags: .known([:]))
}

/// A role whose only permissions are `documents` (JSON text) as inline policies.
func role(_ key: String, account: String = "111122223333", inline documents: [String] = [],
          managed: [ManagedPolicyAttachment] = []) -> ExecutionRole {
    ExecutionRole(key: key, arn: "arn:aws:iam::\(account):role/\(key)", name: key, exists: .known(true),
                  managedPolicies: .known(managed),
                  inlinePolicies: .known(documents.enumerated().map { InlinePolicy(name: "p\($0.offset)", document: .known(.text($0.element))) }))
}
