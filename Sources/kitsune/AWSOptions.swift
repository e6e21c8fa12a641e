import ArgumentParser
import KitsuneAWS

/// `--region` and `--profile`, shared by every command that talks to AWS.
struct AWSOptions: ParsableArguments {
    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region).")
    var region: String?

    @Option(help: "AWS profile (default: AWS_PROFILE, else default).")
    var profile: String?

    /// A client from the environment, profile and these options (credentials as docs/aws.md describes).
    func client(defaultRegion: String? = nil) throws -> AWSClient {
        if let defaultRegion { return try AWSClient.fromEnvironment(profile: profile, region: region, defaultRegion: defaultRegion) }
        return try AWSClient.fromEnvironment(profile: profile, region: region)
    }
}
