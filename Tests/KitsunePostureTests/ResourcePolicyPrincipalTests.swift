import Foundation
import KitsuneFindings
import XCTest
@testable import KitsunePosture

/// Resource policy principals as AWS APIs and emulators return them: a bare account id string, an
/// account id inside an `AWS` list, the account's own id (CIS 4.10).
final class ResourcePolicyPrincipalTests: XCTestCase {
    private func crossAccount(_ policy: String, trusted: Set<String> = []) throws -> Finding {
        var fn = compliantFunction()
        fn.resourcePolicy = .known(.text(policy))
        let snapshot = AccountSnapshot(accountID: "111122223333", regions: [], functions: [fn],
                                       roles: ["role-a": role("role-a", inline: [#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#])])
        let report = try PostureEngine.standard().run(snapshot, now: fixedNow, trustedAccounts: trusted)
        return try XCTUnwrap(report.findings.finding("function-cross-account-policy", fn.arn))
    }

    private func statement(_ principal: String) -> String {
        #"{"Version":"2012-10-17","Statement":[{"Sid":"p","Effect":"Allow","Principal":"# + principal
            + #","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:fn"}]}"#
    }

    func testBareAccountIDStringOfAnotherAccountIsACrossAccountGrant() throws {
        let bare = try crossAccount(statement(#""444455556666""#))
        XCTAssertEqual(bare.status, .fail, bare.message)
        XCTAssertTrue(bare.message.contains("444455556666"), bare.message)
        XCTAssertEqual(try crossAccount(statement(#""444455556666""#), trusted: ["444455556666"]).status, .pass, "declared trusted")
        XCTAssertEqual(try crossAccount(statement(#""111122223333""#)).status, .pass, "the function's own account")
        XCTAssertEqual(try crossAccount(statement(#""arn:aws:iam::444455556666:root""#)).status, .fail, "a bare ARN string")
    }

    func testAccountIDsInsideAnAWSList() throws {
        let list = try crossAccount(statement(#"{"AWS":["111122223333","444455556666"]}"#))
        XCTAssertEqual(list.status, .fail)
        XCTAssertTrue(list.message.contains("444455556666") && !list.message.contains("grants account 111122223333"), list.message)
        XCTAssertEqual(try crossAccount(statement(#"{"AWS":["111122223333"]}"#)).status, .pass)
    }

    func testBareStringsAreFiledUnderTheirPrincipalType() {
        XCTAssertEqual(PolicyDocument.principalString("*"), ["*": ["*"]])
        XCTAssertEqual(PolicyDocument.principalString("123456789012"), ["AWS": ["123456789012"]])
        XCTAssertEqual(PolicyDocument.principalString("s3.amazonaws.com"), ["Service": ["s3.amazonaws.com"]])
        XCTAssertEqual(PolicyDocument.principalString("arn:aws:iam::123456789012:role/x"), ["AWS": ["arn:aws:iam::123456789012:role/x"]])
    }
}
