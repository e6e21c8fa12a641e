import Foundation
import XCTest
@testable import KitsuneAWS

/// SigV4 against AWS's published test suite and against botocore with a pinned clock.
final class SigV4Tests: XCTestCase {
    private func fixture(_ name: String) throws -> [String: Any] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/sigv4"),
                                "missing fixture Fixtures/sigv4/\(name).json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    private func pairs(_ value: Any?) -> [[String]] { (value as? [[String]]) ?? [] }

    func testAWSTestSuiteVectors() throws {
        let suite = try fixture("aws-sigv4-test-suite")
        let creds = try XCTUnwrap(suite["credentials"] as? [String: String])
        let credentials = AWSCredentials(accessKeyID: creds["accessKeyId"] ?? "", secretAccessKey: creds["secretAccessKey"] ?? "")
        let signer = SigV4Signer(service: "service", region: "us-east-1")
        let vectors = try XCTUnwrap(suite["vectors"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(vectors.count, 20)
        for vector in vectors {
            let name = vector["name"] as? String ?? "?"
            let query = (vector["query"] as? String ?? "").split(separator: "&").map { part -> QueryItem in
                let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return QueryItem(String(pieces[0]), pieces.count > 1 ? String(pieces[1]) : "")
            }
            let request = SignableRequest(method: vector["method"] as? String ?? "", host: "example.amazonaws.com",
                                          path: vector["path"] as? String ?? "", query: query,
                                          headers: pairs(vector["headers"]).map { HTTPHeader($0[0], $0[1]) },
                                          body: Array((vector["body"] as? String ?? "").utf8))
            let result = signer.signature(for: request, credentials: credentials, amzDate: "20150830T123600Z",
                                          payloadHash: SigV4Signer.hexSHA256(request.body), query: request.query)
            XCTAssertEqual(result.canonicalRequest, vector["creq"] as? String, "canonical request of \(name)")
            XCTAssertEqual(result.stringToSign, vector["sts"] as? String, "string to sign of \(name)")
            XCTAssertEqual(result.signature, vector["signature"] as? String, "signature of \(name)")
        }
    }

    func testSignAddsDateAndTokenLikeTheSuite() throws {
        // post-sts-header-before: the token is signed; sign() must add it and X-Amz-Date itself.
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        var request = SignableRequest(method: "POST", host: "example.amazonaws.com", path: "/")
        let creds = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                   sessionToken: token)
        let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
        let result = SigV4Signer(service: "service", region: "us-east-1").sign(&request, credentials: creds, date: date)
        XCTAssertEqual(result.amzDate, "20150830T123600Z")
        XCTAssertEqual(result.signature, "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
        XCTAssertEqual(request.header("authorization"), result.authorization)
        XCTAssertEqual(request.header("x-amz-security-token"), token)
    }

    func testBotocoreGoldenHeaderSignatures() throws {
        let goldens = try fixture("botocore-goldens")
        let epoch = try XCTUnwrap(goldens["epochSeconds"] as? Double)
        let signed = try XCTUnwrap(goldens["signed"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(signed.count, 7)
        for case_ in signed {
            let name = case_["name"] as? String ?? "?"
            let service = case_["service"] as? String ?? ""
            var request = SignableRequest(method: case_["method"] as? String ?? "", host: case_["host"] as? String ?? "",
                                          path: case_["path"] as? String ?? "",
                                          query: pairs(case_["query"]).map { QueryItem($0[0], $0[1]) },
                                          headers: pairs(case_["headers"]).map { HTTPHeader($0[0], $0[1]) },
                                          body: Array((case_["body"] as? String ?? "").utf8))
            let creds = AWSCredentials(accessKeyID: case_["accessKeyId"] as? String ?? "",
                                       secretAccessKey: case_["secretAccessKey"] as? String ?? "",
                                       sessionToken: case_["sessionToken"] as? String)
            let result = SigV4Signer(service: service, region: case_["region"] as? String ?? "")
                .sign(&request, credentials: creds, date: Date(timeIntervalSince1970: epoch))
            XCTAssertEqual(result.authorization, case_["authorization"] as? String, "Authorization of \(name)")
            if let sha = case_["contentSHA256"] as? String {
                XCTAssertEqual(request.header("x-amz-content-sha256"), sha, "payload hash header of \(name)")
            }
        }
    }

    func testBotocoreGoldenPresignedURLs() throws {
        let goldens = try fixture("botocore-goldens")
        let epoch = try XCTUnwrap(goldens["epochSeconds"] as? Double)
        let presigned = try XCTUnwrap(goldens["presigned"] as? [[String: Any]])
        XCTAssertEqual(presigned.count, 2)
        for case_ in presigned {
            let name = case_["name"] as? String ?? "?"
            let request = SignableRequest(method: case_["method"] as? String ?? "", host: case_["host"] as? String ?? "",
                                          path: case_["path"] as? String ?? "",
                                          query: pairs(case_["query"]).map { QueryItem($0[0], $0[1]) })
            let creds = AWSCredentials(accessKeyID: case_["accessKeyId"] as? String ?? "",
                                       secretAccessKey: case_["secretAccessKey"] as? String ?? "",
                                       sessionToken: case_["sessionToken"] as? String)
            let (query, result) = SigV4Signer(service: case_["service"] as? String ?? "", region: case_["region"] as? String ?? "")
                .presign(request, credentials: creds, date: Date(timeIntervalSince1970: epoch),
                         expires: case_["expires"] as? Int ?? 0)
            XCTAssertEqual(result.signature, case_["signature"] as? String, "presigned signature of \(name)")
            let expected = Set(pairs(case_["resultQuery"]).map { "\($0[0])=\($0[1])" })
            let ours = Set(query.map { "\(AWSURIEncoding.encode($0.name))=\(AWSURIEncoding.encode($0.value))" })
            XCTAssertEqual(ours, expected, "presigned query of \(name)")
        }
    }

    func testURIEncodingRules() {
        XCTAssertEqual(AWSURIEncoding.encode("a b+c/d~e*"), "a%20b%2Bc%2Fd~e%2A")
        XCTAssertEqual(AWSURIEncoding.encode("a b/c", keepSlash: true), "a%20b/c")
        XCTAssertEqual(AWSURIEncoding.decode("a%20b%2Bc+d", plusIsSpace: true), "a b+c d")
        XCTAssertEqual(AWSURIEncoding.decode("100%"), "100%", "a truncated escape is kept, not a crash")
        XCTAssertEqual(AWSURIEncoding.normalizePath("/a/./b/../c//d/"), "/a/c/d/")
        // Non-S3 services encode the wire path once more; S3 uses it as sent.
        XCTAssertEqual(SigV4Signer(service: "lambda", region: "x").canonicalURI("/f/a%3Ab"), "/f/a%253Ab")
        XCTAssertEqual(SigV4Signer(service: "s3", region: "x").canonicalURI("/b//a%3Ab"), "/b//a%3Ab")
    }
}
