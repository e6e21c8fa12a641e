import Foundation

/// A set of AWS credentials.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Present for temporary credentials (STS).
    public var sessionToken: String?
    /// When temporary credentials stop working.
    public var expiration: Date?
    /// Where they came from (`environment`, `profile dev (~/.aws/credentials)`, `assumed role …`).
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil,
                expiration: Date? = nil, source: String = "static") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    /// True when `expiration` is before `date`.
    public func isExpired(at date: Date) -> Bool { expiration.map { $0 <= date } ?? false }
}

/// Something that yields credentials (a chain, a fixed set, an assumed role…).
public protocol CredentialsProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// Always the same credentials.
public struct StaticCredentialsProvider: CredentialsProvider {
    public let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws -> AWSCredentials { value }
}

/// Caches the credentials of a provider until five minutes before they expire (assumed roles
/// would otherwise call STS for every request).
public actor CachingCredentialsProvider: CredentialsProvider {
    private let base: any CredentialsProvider
    private var cached: AWSCredentials?

    public init(_ base: any CredentialsProvider) { self.base = base }

    public func credentials() async throws -> AWSCredentials {
        if let cached, !cached.isExpired(at: Date().addingTimeInterval(300)) { return cached }
        let fresh = try await base.credentials()
        cached = fresh
        return fresh
    }
}

/// The AWS CLI's credential lookup:
/// 1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` (skipped when a profile is
///    passed explicitly, like `--profile`);
/// 2. the profile (`AWS_PROFILE`, else `default`) in the credentials and config files:
///    static keys, `role_arn` with `source_profile` or `credential_source = Environment` (STS
///    AssumeRole, chains allowed, cycles rejected), or `credential_process`;
/// 3. when no profile applies: container credentials (ECS/EKS/CodeBuild), then EC2 IMDSv2.
public struct CredentialChain: CredentialsProvider {
    public let environment: AWSEnvironment
    public let config: SharedConfig
    public let explicitProfile: String?
    public let region: String
    public let endpoints: EndpointResolver
    public let transport: any HTTPTransport
    public let retry: RetryPolicy

    /// `region` and `endpoints` are used for STS AssumeRole when a profile has `role_arn`.
    public init(environment: AWSEnvironment, config: SharedConfig, explicitProfile: String?, region: String,
                endpoints: EndpointResolver, transport: any HTTPTransport, retry: RetryPolicy) {
        self.environment = environment
        self.config = config
        self.explicitProfile = explicitProfile
        self.region = region
        self.endpoints = endpoints
        self.transport = transport
        self.retry = retry
    }

    /// The same chain with its result cached until shortly before expiry.
    public func cached() -> any CredentialsProvider {
        CachingCredentialsProvider(self)
    }

    public func credentials() async throws -> AWSCredentials {
        var searched: [String] = []
        if explicitProfile == nil {
            if let creds = try environmentCredentials() { return creds }
            searched.append("environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (not set)")
        }
        let profile = explicitProfile ?? environment.profileName ?? "default"
        let files = [environment.credentialsFilePath, environment.configFilePath]
        if config.profiles[profile] != nil { return try await profileCredentials(profile, visited: []) }
        if explicitProfile != nil || environment.profileName != nil {
            throw AWSError.invalidConfiguration("profile '\(profile)' not found in \(files.joined(separator: " or "))")
        }
        searched.append("profile 'default' in \(files.joined(separator: " and ")) (not present)")
        let metadata = MetadataCredentials(environment: environment)
        if let creds = try await metadata.container() { return creds }
        searched.append("container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set)")
        switch await metadata.instance() {
        case .success(let creds)?: return creds
        case .failure(let error)?: searched.append("EC2 instance metadata (\(error))")
        case nil: searched.append("EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)")
        }
        throw AWSError.missingCredentials(searched: searched)
    }

    func environmentCredentials() throws -> AWSCredentials? {
        let key = environment.nonEmpty("AWS_ACCESS_KEY_ID")
        let secret = environment.nonEmpty("AWS_SECRET_ACCESS_KEY")
        switch (key, secret) {
        case (nil, nil): return nil
        case (.some, nil): throw AWSError.invalidConfiguration("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, .some): throw AWSError.invalidConfiguration("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (.some(let key), .some(let secret)):
            var expiration: Date?
            if let text = environment.nonEmpty("AWS_CREDENTIAL_EXPIRATION") {
                guard let date = ISO8601DateFormatter().date(from: text) else {
                    throw AWSError.invalidConfiguration("AWS_CREDENTIAL_EXPIRATION '\(text)' is not an ISO 8601 time")
                }
                expiration = date
            }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                                  sessionToken: environment.nonEmpty("AWS_SESSION_TOKEN"),
                                  expiration: expiration, source: "environment variables")
        }
    }

    private func profileCredentials(_ name: String, visited: [String]) async throws -> AWSCredentials {
        guard !visited.contains(name) else {
            throw AWSError.invalidConfiguration("source_profile cycle: \((visited + [name]).joined(separator: " → "))")
        }
        guard let settings = config.profiles[name] else {
            throw AWSError.invalidConfiguration("profile '\(name)' (referenced by source_profile of '\(visited.last ?? "")') not found in \(config.sources.joined(separator: " or "))")
        }
        if let roleARN = settings["role_arn"] {
            let source: AWSCredentials
            if let sourceProfile = settings["source_profile"] {
                // A source profile with its own keys is used for them (its role_arn is not chained again
                // when it is the same profile), as the AWS CLI does.
                if sourceProfile == name, let creds = staticCredentials(settings, profile: name) {
                    source = creds
                } else {
                    source = try await profileCredentials(sourceProfile, visited: visited + [name])
                }
            } else if let credentialSource = settings["credential_source"] {
                guard credentialSource == "Environment", let creds = try environmentCredentials() else {
                    throw AWSError.invalidConfiguration("profile '\(name)': credential_source '\(credentialSource)' is not supported or its credentials are missing (supported: Environment)")
                }
                source = creds
            } else {
                throw AWSError.invalidConfiguration("profile '\(name)' has role_arn but neither source_profile nor credential_source")
            }
            if settings["mfa_serial"] != nil {
                throw AWSError.invalidConfiguration("profile '\(name)' requires MFA (mfa_serial); Kitsune cannot prompt for a token code — export temporary credentials instead")
            }
            return try await assumeRole(profile: name, settings: settings, roleARN: roleARN, source: source)
        }
        if let creds = staticCredentials(settings, profile: name) { return creds }
        if let command = settings["credential_process"] {
            return try CredentialProcess.run(command, profile: name)
        }
        if settings.keys.contains(where: { $0.hasPrefix("sso_") }) {
            throw AWSError.invalidConfiguration("profile '\(name)' uses IAM Identity Center (sso_*), which Kitsune does not support; run `aws configure export-credentials --profile \(name) --format env` and use the environment variables")
        }
        throw AWSError.missingCredentials(searched: [
            "profile '\(name)' in \(config.sources.joined(separator: " and ")) has no aws_access_key_id/aws_secret_access_key, role_arn or credential_process"])
    }

    private func staticCredentials(_ settings: [String: String], profile: String) -> AWSCredentials? {
        guard let key = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"],
              !key.isEmpty, !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: settings["aws_session_token"],
                              source: "profile '\(profile)'")
    }

    private func assumeRole(profile: String, settings: [String: String], roleARN: String,
                            source: AWSCredentials) async throws -> AWSCredentials {
        let stsRegion = settings["region"] ?? region
        let client = AWSClient(region: stsRegion, credentials: StaticCredentialsProvider(source), endpoints: endpoints,
                               transport: transport, retry: retry)
        var duration: Int?
        if let text = settings["duration_seconds"] {
            guard let value = Int(text), (900...43_200).contains(value) else {
                throw AWSError.invalidConfiguration("profile '\(profile)': duration_seconds '\(text)' must be 900…43200")
            }
            duration = value
        }
        let sessionName = settings["role_session_name"] ?? "kitsune-\(Int(Date().timeIntervalSince1970))"
        var creds = try await client.sts.assumeRole(roleARN: roleARN, sessionName: sessionName,
                                                    externalID: settings["external_id"], durationSeconds: duration)
        creds.source = "role \(roleARN) assumed via profile '\(profile)'"
        return creds
    }
}
