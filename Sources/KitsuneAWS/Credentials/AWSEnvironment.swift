import Foundation

/// The environment variables and home directory the client reads, as a value (tests pass their own;
/// nothing reads the process environment behind the caller's back).
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]
    public var homeDirectory: String

    public init(variables: [String: String], homeDirectory: String) {
        self.variables = variables
        self.homeDirectory = homeDirectory
    }

    /// This process's environment and `$HOME`.
    public static var process: AWSEnvironment {
        let env = ProcessInfo.processInfo.environment
        return AWSEnvironment(variables: env, homeDirectory: env["HOME"] ?? NSHomeDirectory())
    }

    /// The value of `name` when set and not empty.
    public func nonEmpty(_ name: String) -> String? {
        guard let value = variables[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// `AWS_PROFILE` (or the legacy `AWS_DEFAULT_PROFILE`), nil when neither is set.
    public var profileName: String? { nonEmpty("AWS_PROFILE") ?? nonEmpty("AWS_DEFAULT_PROFILE") }

    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    public var credentialsFilePath: String {
        expand(nonEmpty("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
    }

    /// `AWS_CONFIG_FILE` or `~/.aws/config`.
    public var configFilePath: String { expand(nonEmpty("AWS_CONFIG_FILE") ?? "~/.aws/config") }

    /// Expands a leading `~` to the home directory.
    public func expand(_ path: String) -> String {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") { return homeDirectory + "/" + path.dropFirst(2) }
        return path
    }

    /// The region: explicit → `AWS_REGION` → `AWS_DEFAULT_REGION` → the profile's `region`.
    /// Throws a clear error naming every place looked at when none is set.
    public static func resolveRegion(explicit: String?, environment: AWSEnvironment, config: SharedConfig,
                                     profile: String?) throws -> String {
        let profileName = profile ?? "default"
        let candidates: [String?] = [explicit?.trimmingCharacters(in: .whitespaces),
                                     environment.nonEmpty("AWS_REGION"), environment.nonEmpty("AWS_DEFAULT_REGION"),
                                     config.profiles[profileName]?["region"]]
        guard let region = candidates.compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw AWSError.invalidConfiguration("no AWS region: pass --region, or set AWS_REGION / AWS_DEFAULT_REGION, or `region` in profile '\(profileName)' of \(environment.configFilePath)")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard region.count <= 40, region.allSatisfy({ allowed.contains($0) }) else {
            throw AWSError.invalidConfiguration("region '\(region)' is not a valid AWS region name")
        }
        return region
    }
}
