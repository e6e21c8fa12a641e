import Foundation
import XCTest
@testable import KitsuneAWS

/// Credentials, region and endpoint resolution with real temporary config files (and STS
/// AssumeRole against moto).
final class CredentialChainTests: XCTestCase {
    private var home = ""

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-aws-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home + "/.aws", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: home) }

    private func write(_ relative: String, _ text: String) throws {
        let path = home + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func env(_ variables: [String: String] = [:]) -> AWSEnvironment {
        AWSEnvironment(variables: variables, homeDirectory: home)
    }

    private func credentials(_ environment: AWSEnvironment, profile: String? = nil, region: String? = "us-east-1",
                             transport: any HTTPTransport = URLSessionTransport()) async throws -> AWSCredentials {
        let client = try AWSClient.fromEnvironment(environment, profile: profile, region: region, transport: transport,
                                                   retry: TestServers.fastRetry)
        return try await client.credentials.credentials()
    }

    func testEnvironmentVariablesComeFirst() async throws {
        try write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = filesecret\n")
        let creds = try await credentials(env(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret",
                                               "AWS_SESSION_TOKEN": "token123"]))
        XCTAssertEqual(creds.accessKeyID, "AKIAENV")
        XCTAssertEqual(creds.sessionToken, "token123")
        XCTAssertEqual(creds.source, "environment variables")
        // An explicit profile (like --profile) wins over the variables, as in the AWS CLI.
        let fromFile = try await credentials(env(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret"]),
                                             profile: "default")
        XCTAssertEqual(fromFile.accessKeyID, "AKIAFILE")
    }

    func testHalfSetEnvironmentIsAnError() async throws {
        do {
            _ = try await credentials(env(["AWS_ACCESS_KEY_ID": "AKIAENV"]))
            XCTFail("expected an error")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("AWS_SECRET_ACCESS_KEY is not"), error.description)
        }
    }

    func testProfilesFromBothFilesAndCustomPaths() async throws {
        try write("custom/creds", "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = devsecret # comment\n")
        try write("custom/config", "# comment\n[profile dev]\nregion = eu-north-1\ns3 =\n  max_concurrent_requests = 4\n")
        let environment = env(["AWS_PROFILE": "dev", "AWS_SHARED_CREDENTIALS_FILE": "~/custom/creds",
                               "AWS_CONFIG_FILE": home + "/custom/config"])
        let client = try AWSClient.fromEnvironment(environment)
        XCTAssertEqual(client.region, "eu-north-1", "region from the profile in AWS_CONFIG_FILE")
        let creds = try await client.credentials.credentials()
        XCTAssertEqual(creds.accessKeyID, "AKIADEV")
        XCTAssertEqual(creds.secretAccessKey, "devsecret", "inline comments are stripped")
    }

    func testRegionOrder() throws {
        try write(".aws/config", "[default]\nregion = ap-south-1\n")
        let config = try SharedConfig.load(env())
        XCTAssertEqual(try AWSEnvironment.resolveRegion(explicit: nil, environment: env(), config: config, profile: nil), "ap-south-1")
        XCTAssertEqual(try AWSEnvironment.resolveRegion(explicit: nil, environment: env(["AWS_DEFAULT_REGION": "eu-west-3"]),
                                                        config: config, profile: nil), "eu-west-3")
        XCTAssertEqual(try AWSEnvironment.resolveRegion(explicit: nil, environment: env(["AWS_DEFAULT_REGION": "eu-west-3",
                                                                                         "AWS_REGION": "us-west-1"]),
                                                        config: config, profile: nil), "us-west-1")
        XCTAssertEqual(try AWSEnvironment.resolveRegion(explicit: "sa-east-1", environment: env(["AWS_REGION": "us-west-1"]),
                                                        config: config, profile: nil), "sa-east-1")
        XCTAssertThrowsError(try AWSEnvironment.resolveRegion(explicit: nil, environment: env(), config: SharedConfig(),
                                                              profile: nil)) { error in
            XCTAssertTrue("\(error)".contains("AWS_REGION"), "\(error)")
        }
        XCTAssertThrowsError(try AWSEnvironment.resolveRegion(explicit: "us-east-1; rm -rf", environment: env(),
                                                              config: config, profile: nil))
        // A command's fallback region (IAM: us-east-1; deploy: the layer's region) never beats configuration.
        XCTAssertEqual(try AWSClient.fromEnvironment(AWSEnvironment(variables: [:], homeDirectory: "/nonexistent"),
                                                     defaultRegion: "us-east-1").region, "us-east-1")
        XCTAssertEqual(try AWSClient.fromEnvironment(env(["AWS_REGION": "eu-west-2"]), defaultRegion: "us-east-1").region,
                       "eu-west-2")
    }

    func testContainerAndInstanceMetadataCredentials() async throws {
        let server = try ServerProcess(script: "metadata_server")
        defer { server.stop() }
        let instance = try await credentials(env(["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url]))
        XCTAssertEqual(instance.accessKeyID, "ASIAIMDSROLE00000001")
        XCTAssertEqual(instance.sessionToken, "imds-session")
        XCTAssertEqual(instance.source, "EC2 instance profile kitsune-ci-role")
        let container = try await credentials(env(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/container/creds",
                                                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer container-auth"]))
        XCTAssertEqual(container.accessKeyID, "ASIACONTAINER0000001", "container endpoint comes before IMDS")
        do {
            _ = try await credentials(env(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.5/creds"]))
            XCTFail("credentials fetched from an arbitrary plain-HTTP host")
        } catch {
            XCTAssertTrue("\(error)".contains("loopback"), "\(error)")
        }
    }

    func testMissingCredentialsSaysWhereItLooked() async throws {
        do {
            _ = try await credentials(env(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"]))
            XCTFail("expected missing credentials")
        } catch let error as AWSError {
            guard case .missingCredentials(let searched) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(searched.joined().contains("AWS_ACCESS_KEY_ID"))
            XCTAssertTrue(searched.joined().contains(home + "/.aws/credentials"))
            XCTAssertTrue(searched.joined().contains("container credentials"))
            XCTAssertTrue(searched.joined().contains("EC2 instance metadata"))
        }
        do {
            _ = try await credentials(env(["AWS_PROFILE": "nope"]))
            XCTFail("expected unknown profile")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("profile 'nope' not found"), error.description)
        }
    }

    func testMalformedConfigNamesFileAndLine() throws {
        try write(".aws/config", "[default]\nregion = us-east-1\nthis line is wrong\n")
        XCTAssertThrowsError(try SharedConfig.load(env())) { error in
            XCTAssertTrue("\(error)".contains(home + "/.aws/config line 3"), "\(error)")
        }
        try write(".aws/config", "region = us-east-1\n")
        XCTAssertThrowsError(try SharedConfig.load(env())) { error in
            XCTAssertTrue("\(error)".contains("outside of any [section]"), "\(error)")
        }
    }

    func testEndpointVariables() throws {
        let resolver = EndpointResolver(environment: env(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
                                                          "AWS_ENDPOINT_URL_LAMBDA": "http://localhost:9000/"]))
        XCTAssertEqual(try resolver.resolve(service: "lambda", region: "eu-west-1").baseURL.absoluteString, "http://localhost:9000")
        XCTAssertEqual(try resolver.resolve(service: "iam", region: "eu-west-1").baseURL.absoluteString, "http://127.0.0.1:4566")
        XCTAssertEqual(try resolver.resolve(service: "iam", region: "eu-west-1").signingRegion, "us-east-1")
        let ignored = EndpointResolver(environment: env(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
                                                         "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]))
        XCTAssertEqual(try ignored.resolve(service: "sts", region: "eu-west-1").baseURL.absoluteString,
                       "https://sts.eu-west-1.amazonaws.com")
        let defaults = EndpointResolver()
        XCTAssertEqual(try defaults.resolve(service: "iam", region: "cn-north-1").baseURL.absoluteString,
                       "https://iam.cn-north-1.amazonaws.com.cn")
        XCTAssertEqual(try defaults.resolve(service: "cloudtrail", region: "cn-northwest-1").baseURL.absoluteString,
                       "https://cloudtrail.cn-northwest-1.amazonaws.com.cn")
        let bad = EndpointResolver(environment: env(["AWS_ENDPOINT_URL_CLOUDTRAIL": "ftp://x"]))
        XCTAssertThrowsError(try bad.resolve(service: "cloudtrail", region: "us-east-1")) { error in
            XCTAssertTrue("\(error)".contains("AWS_ENDPOINT_URL_CLOUDTRAIL"), "\(error)")
        }
    }

    func testAssumeRoleThroughSourceProfileAgainstMoto() async throws {
        let moto = try TestServers.freshMoto()
        let admin = TestServers.client(moto)
        let role = try await admin.iam.createRole("kitsune-auditor", assumeRolePolicy: LambdaFixture.trustPolicy)
        try write(".aws/credentials", "[base]\naws_access_key_id = AKIABASE0000000000001\naws_secret_access_key = basesecret\n")
        try write(".aws/config", """
            [profile auditor]
            role_arn = \(role.arn)
            source_profile = base
            role_session_name = kitsune-test
            region = eu-west-1
            """)
        let environment = env(["AWS_PROFILE": "auditor", "AWS_ENDPOINT_URL": moto.url])
        let client = try AWSClient.fromEnvironment(environment, retry: TestServers.fastRetry)
        XCTAssertEqual(client.region, "eu-west-1")
        let creds = try await client.credentials.credentials()
        XCTAssertNotEqual(creds.accessKeyID, "AKIABASE0000000000001")
        XCTAssertNotNil(creds.sessionToken, "assumed-role credentials carry a session token")
        XCTAssertNotNil(creds.expiration)
        XCTAssertTrue(creds.source.contains(role.arn), creds.source)
        let identity = try await client.sts.getCallerIdentity()
        XCTAssertTrue(identity.arn.contains("assumed-role/kitsune-auditor/kitsune-test"), identity.arn)
    }

    func testRoleFromEnvironmentCredentialsAgainstMoto() async throws {
        let moto = try TestServers.freshMoto()
        let role = try await TestServers.client(moto).iam.createRole("kitsune-ci", assumeRolePolicy: LambdaFixture.trustPolicy)
        try write(".aws/config", "[profile ci]\nrole_arn = \(role.arn)\ncredential_source = Environment\n")
        let creds = try await credentials(env(["AWS_PROFILE": "ci", "AWS_ENDPOINT_URL": moto.url,
                                               "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"]), profile: "ci")
        XCTAssertNotNil(creds.sessionToken)
        XCTAssertTrue(creds.source.contains("kitsune-ci"), creds.source)
        do {
            _ = try await credentials(env(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s",
                                           "AWS_CREDENTIAL_EXPIRATION": "tomorrow"]))
            XCTFail("bad expiration accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("AWS_CREDENTIAL_EXPIRATION"), "\(error)")
        }
    }

    func testSourceProfileCycleAndMFAAreClearErrors() async throws {
        try write(".aws/config", """
            [profile a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = a
            [profile mfa]
            role_arn = arn:aws:iam::123456789012:role/m
            source_profile = base
            mfa_serial = arn:aws:iam::123456789012:mfa/me
            [profile base]
            aws_access_key_id = AKIABASE
            aws_secret_access_key = s
            """)
        do { _ = try await credentials(env(), profile: "a"); XCTFail("cycle not detected") } catch {
            XCTAssertTrue("\(error)".contains("cycle: a → b → a"), "\(error)")
        }
        do { _ = try await credentials(env(), profile: "mfa"); XCTFail("mfa not reported") } catch {
            XCTAssertTrue("\(error)".contains("MFA"), "\(error)")
        }
    }

    func testCredentialProcess() async throws {
        let expiry = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        try write(".aws/config", """
            [profile proc]
            credential_process = printf '{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "procsecret", "SessionToken": "proctoken", "Expiration": "\(expiry)"}'
            [profile broken]
            credential_process = echo not-json
            """)
        let creds = try await credentials(env(), profile: "proc")
        XCTAssertEqual(creds.accessKeyID, "ASIAPROC")
        XCTAssertEqual(creds.sessionToken, "proctoken")
        do { _ = try await credentials(env(), profile: "broken"); XCTFail("bad output accepted") } catch {
            XCTAssertTrue("\(error)".contains("credential_process output"), "\(error)")
        }
    }

    func testExpiredCredentialsFailBeforeSending() async throws {
        let expired = AWSCredentials(accessKeyID: "ASIAOLD", secretAccessKey: "s", sessionToken: "t",
                                     expiration: Date().addingTimeInterval(-60), source: "environment variables")
        let client = AWSClient(region: "us-east-1", credentials: StaticCredentialsProvider(expired),
                               endpoints: EndpointResolver(globalOverride: "http://127.0.0.1:9"), retry: TestServers.fastRetry)
        do { _ = try await client.sts.getCallerIdentity(); XCTFail("expired credentials were used") } catch let error as AWSError {
            guard case .expiredCredentials = error else { return XCTFail("\(error)") }
            XCTAssertTrue(error.description.contains("expired"), error.description)
        }
    }
}
