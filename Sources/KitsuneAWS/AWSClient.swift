// KitsuneAWS — a small, complete AWS client (no AWS SDK for Swift is available here).
//
// API OVERVIEW (stable; for KitsunePosture and the CLI)
// ------------------------------------------------------
//   let aws = try AWSClient.fromEnvironment(profile: nil, region: "eu-west-1")
//       // credentials: env → profile (~/.aws/credentials + ~/.aws/config, role_arn/source_profile
//       // via STS AssumeRole, credential_process) → container endpoint → EC2 IMDSv2;
//       // region: explicit → AWS_REGION → AWS_DEFAULT_REGION
//       // → profile; endpoints: AWS_ENDPOINT_URL_<SERVICE> → AWS_ENDPOINT_URL → AWS defaults.
//   aws.region                                   // String
//   aws.lambda.listFunctions(pageSize:)          -> [LambdaFunctionConfiguration]   (follows NextMarker)
//   aws.lambda.getFunction(name) -> LambdaGetFunctionOutput (configuration, code location, tags)
//   aws.lambda.getFunctionConfiguration(name) / listTags(arn) -> [String: String]
//   aws.lambda.getPolicy(name) -> String?       (resource policy JSON; nil when the function has none)
//   aws.lambda.getFunctionUrlConfig(name) -> LambdaFunctionURLConfig?   (nil when no URL)
//   aws.lambda.getFunctionCodeSigningConfig(name) -> String?   (code signing config ARN or nil)
//   aws.lambda.listLayerVersions(layerName) / getLayerVersion(layerName, version) / getLayerVersion(arn:)
//   aws.lambda.updateFunctionConfiguration(name, LambdaConfigurationUpdate) / publishLayerVersion(...)
//   aws.iam.listRoles() / getRole(name) / listRolePolicies(role) / getRolePolicy(role, policy)
//   aws.iam.listAttachedRolePolicies(role) / getPolicy(arn) / getPolicyVersion(arn, versionID)
//   aws.iam.listUsers() / createUser / putUserPolicy / createAccessKey / listAccessKeys / deleteUser …
//       (policy documents are returned decoded: JSON text, no URL encoding)
//   For fixtures/tooling: lambda.createFunction, iam.createRole / putRolePolicy / createPolicy /
//       attachRolePolicy (used by the tests against moto).
//   aws.sts.getCallerIdentity() / assumeRole(...)
//   aws.cloudTrail.describeTrails() / getEventSelectors(trail) / lookupEvents(...)
//   aws.config.describeConfigurationRecorders() / describeConfigurationRecorderStatus()
//   aws.lambda.getFunctionConcurrency(name) -> Int?   (reserved concurrency; nil when none)
//   downloadCodePackage(from: location, maxBytes:) -> [UInt8]   (GetFunction's pre-signed Code.Location)
//   boundedMap(items, limit:) { … }              // bounded concurrency for large accounts
//
// Every failure is an `AWSError` whose description names the service, the action and what went
// wrong: `.missingCredentials` (lists where it looked), `.expiredCredentials`, `.throttled` (after
// bounded retries with exponential backoff + full jitter), `.accessDenied` (names the action),
// `.notFound`, `.network`, `.service`, `.invalidResponse`, `.invalidConfiguration`.
// Callers that need "could not evaluate" semantics check `error.isAccessDenied` / `.isNotFound`.
//
// Seams: `HTTPTransport` (URLSession by default), `CredentialsProvider`, `AWSEnvironment` (env
// variables and home directory as a value), `RetryPolicy` (incl. its random source and sleeper).

import Foundation

/// The entry point: one region, one credential source, one transport. Value type; cheap to copy.
/// Service clients (`lambda`, `iam`, `sts`, `cloudTrail`) are views over it.
public struct AWSClient: Sendable {
    /// The region requests are signed for and sent to (IAM is global and always signs for its
    /// partition's global region).
    public let region: String
    public let credentials: any CredentialsProvider
    public let endpoints: EndpointResolver
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    /// Clock used for signing (pinned in tests).
    public let now: @Sendable () -> Date

    /// Creates a client from explicit parts (tests, or callers with their own credential source).
    public init(region: String, credentials: any CredentialsProvider, endpoints: EndpointResolver,
                transport: any HTTPTransport = URLSessionTransport(), retry: RetryPolicy = RetryPolicy(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.region = region
        self.credentials = credentials
        self.endpoints = endpoints
        self.transport = transport
        self.retry = retry
        self.now = now
    }

    /// Builds a client the way the AWS CLI would: region, credentials and endpoints from the
    /// environment and the shared config files.
    /// - Parameters:
    ///   - environment: environment variables and home directory (default: this process).
    ///   - profile: an explicit profile (like `--profile`); overrides `AWS_PROFILE` and skips
    ///     the `AWS_ACCESS_KEY_ID` variables, as the AWS CLI does.
    ///   - region: an explicit region (like `--region`); overrides everything else.
    ///   - defaultRegion: used only when no region is configured anywhere (e.g. `us-east-1` for IAM).
    ///   - transport: the HTTP transport (default URLSession).
    public static func fromEnvironment(_ environment: AWSEnvironment = .process, profile: String? = nil,
                                       region: String? = nil, defaultRegion: String? = nil,
                                       transport: any HTTPTransport = URLSessionTransport(),
                                       retry: RetryPolicy = RetryPolicy()) throws -> AWSClient {
        let config = try SharedConfig.load(environment)
        let profileName = profile ?? environment.profileName
        let resolvedRegion: String
        do {
            resolvedRegion = try AWSEnvironment.resolveRegion(explicit: region, environment: environment,
                                                              config: config, profile: profileName)
        } catch let error as AWSError {
            guard let defaultRegion, region == nil else { throw error }
            resolvedRegion = try AWSEnvironment.resolveRegion(explicit: defaultRegion, environment: environment,
                                                              config: config, profile: profileName)
        }
        let endpoints = EndpointResolver(environment: environment)
        let chain = CredentialChain(environment: environment, config: config, explicitProfile: profile,
                                    region: resolvedRegion, endpoints: endpoints, transport: transport, retry: retry)
        return AWSClient(region: resolvedRegion, credentials: chain.cached(), endpoints: endpoints,
                         transport: transport, retry: retry)
    }

    /// AWS Lambda (REST-JSON).
    public var lambda: LambdaClient { LambdaClient(client: self) }
    /// AWS IAM (query protocol, XML responses).
    public var iam: IAMClient { IAMClient(client: self) }
    /// AWS STS (query protocol, XML responses).
    public var sts: STSClient { STSClient(client: self) }
    /// AWS CloudTrail (JSON 1.1).
    public var cloudTrail: CloudTrailClient { CloudTrailClient(client: self) }
    /// Amazon SNS (query protocol; alerts).
    public var sns: SNSClient { SNSClient(client: self) }
    /// AWS Config (JSON 1.1; configuration recorders).
    public var config: ConfigServiceClient { ConfigServiceClient(client: self) }

    /// The same client for another region.
    public func inRegion(_ other: String) -> AWSClient {
        AWSClient(region: other, credentials: credentials, endpoints: endpoints, transport: transport,
                  retry: retry, now: now)
    }
}
