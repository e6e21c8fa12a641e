import Foundation
import XCTest
@testable import KitsuneAWS

/// Throttling, network failure and error mapping against real local servers.
final class RetryAndErrorTests: XCTestCase {
    func testBackoffIsFullJitterAndBounded() {
        let top = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 4, random: { 0.999_999 })
        XCTAssertEqual(top.delay(afterAttempt: 0), 0.5, accuracy: 0.001)
        XCTAssertEqual(top.delay(afterAttempt: 2), 2, accuracy: 0.001)
        XCTAssertEqual(top.delay(afterAttempt: 10), 4, accuracy: 0.001, "capped at maxDelay")
        XCTAssertEqual(RetryPolicy(random: { 0 }).delay(afterAttempt: 3), 0, "full jitter reaches zero")
        XCTAssertEqual(RetryPolicy(maxAttempts: 0).maxAttempts, 1)
    }

    func testThrottledJSONCallsAreRetriedThenSucceed() async throws {
        let moto = try TestServers.freshMoto()
        let shim = try TestServers.shim(["upstream": moto.url, "throttle": 2])
        defer { shim.stop() }
        let delays = DelayLog()
        let retry = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05, random: { 0.5 },
                                sleep: { await delays.add($0) })
        let client = TestServers.client(shim, retry: retry)
        let functions = try await client.lambda.listFunctions()
        XCTAssertEqual(functions.count, 0)
        let stats = try TestServers.shimStats(shim)
        XCTAssertEqual(stats["throttled"], 2)
        XCTAssertEqual(stats["requests"], 3)
        XCTAssertEqual(stats["authorized"], 3, "every attempt is freshly signed")
        let slept = await delays.values
        XCTAssertEqual(slept.count, 2)
        XCTAssertEqual(slept[0], 0.005, accuracy: 0.0001)
        XCTAssertEqual(slept[1], 0.01, accuracy: 0.0001, "exponential: base·2^attempt·random")
    }

    func testThrottledQueryCallsGiveUpWithClearError() async throws {
        let moto = try TestServers.freshMoto()
        let shim = try TestServers.shim(["upstream": moto.url, "throttle": 100])
        defer { shim.stop() }
        let client = TestServers.client(shim)
        do {
            _ = try await client.iam.listRoles()
            XCTFail("expected throttling error")
        } catch let error as AWSError {
            XCTAssertEqual(error, .throttled(service: "iam", action: "ListRoles", attempts: 4, code: "Throttling"))
            XCTAssertTrue(error.description.contains("gave up after 4 attempts"), error.description)
        }
        XCTAssertEqual(try TestServers.shimStats(shim)["requests"], 4, "bounded: exactly maxAttempts requests")
    }

    func testNetworkFailureIsReportedAfterRetries() async throws {
        // A port nobody listens on: bind, read the port, close.
        let shim = try TestServers.shim([:])
        let deadURL = shim.url
        shim.stop()
        let client = AWSClient(region: "us-east-1",
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKIAX", secretAccessKey: "s")),
                               endpoints: EndpointResolver(globalOverride: deadURL), retry: TestServers.fastRetry)
        do {
            _ = try await client.sts.getCallerIdentity()
            XCTFail("expected a network error")
        } catch let error as AWSError {
            guard case .network(let service, let action, let endpoint, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(service, "sts")
            XCTAssertEqual(action, "GetCallerIdentity")
            XCTAssertEqual(endpoint, deadURL)
            XCTAssertTrue(detail.contains("after 4 attempts"), detail)
        }
    }

    func testNotFoundAndServiceErrorsFromMoto() async throws {
        let moto = try TestServers.freshMoto()
        let client = TestServers.client(moto)
        do { _ = try await client.lambda.getFunctionConfiguration("does-not-exist"); XCTFail("no error") } catch let error as AWSError {
            XCTAssertTrue(error.isNotFound, "\(error)")
            XCTAssertTrue(error.description.contains("lambda:GetFunctionConfiguration"), error.description)
        }
        do { _ = try await client.iam.getRole("nope"); XCTFail("no error") } catch let error as AWSError {
            XCTAssertTrue(error.isNotFound, "\(error)")
        }
    }

    func testMotoVerifiesOurSignaturesAndReportsAccessDenied() async throws {
        let moto = try TestServers.motoWithAuth.get()
        try TestServers.reset(moto)
        // The first 3 calls are unauthenticated (INITIAL_NO_AUTH_ACTION_COUNT=3): set up a reader.
        let setup = TestServers.client(moto)
        let user = "reader-\(UUID().uuidString.prefix(8))"
        _ = try await setup.iam.createUser(user)
        try await setup.iam.putUserPolicy(user, policyName: "read", document: """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","iam:GetUser"],"Resource":"*"}]}
            """)
        let key = try await setup.iam.createAccessKey(user)
        let secret = try XCTUnwrap(key.secretAccessKey)
        // From now on moto checks the SigV4 signature with the real secret and evaluates the policy.
        let reader = TestServers.client(moto, credentials: AWSCredentials(accessKeyID: key.accessKeyID, secretAccessKey: secret))
        _ = try await reader.iam.listRoles()
        do { _ = try await reader.iam.listUsers(); XCTFail("no access denied") } catch let error as AWSError {
            XCTAssertTrue(error.isAccessDenied, "\(error)")
            XCTAssertTrue(error.description.contains("not allowed to perform iam:ListUsers"), error.description)
        }
        let forged = TestServers.client(moto, credentials: AWSCredentials(accessKeyID: key.accessKeyID, secretAccessKey: "wrong"))
        do { _ = try await forged.iam.listRoles(); XCTFail("bad signature accepted") } catch let error as AWSError {
            guard case .invalidCredentials(_, let action, let code, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(action, "ListRoles")
            XCTAssertEqual(code, "SignatureDoesNotMatch")
        }
    }

    func testErrorParsing() {
        let json = HTTPResponse(status: 400, headers: ["x-amzn-errortype": "ResourceConflictException:http://internal/"],
                                body: Array(#"{"message":"update in progress"}"#.utf8))
        XCTAssertEqual(AWSClient.parseError(json, protocol: "rest-json").0, "ResourceConflictException")
        XCTAssertEqual(AWSClient.parseError(json, protocol: "rest-json").1, "update in progress")
        let typed = HTTPResponse(status: 400, headers: [:], body: Array(#"{"__type":"com.amazonaws#TrailNotFoundException","Message":"m"}"#.utf8))
        XCTAssertEqual(AWSClient.parseError(typed, protocol: "json").0, "TrailNotFoundException")
        let garbage = HTTPResponse(status: 502, headers: [:], body: Array("<html>bad gateway".utf8))
        XCTAssertEqual(AWSClient.parseError(garbage, protocol: "query").0, "HTTP502")
    }
}

actor DelayLog {
    private(set) var values: [Double] = []
    func add(_ value: Double) { values.append(value) }
}
