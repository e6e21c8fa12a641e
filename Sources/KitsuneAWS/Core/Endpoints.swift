import Foundation

/// Where a request for a service goes and which region it is signed for.
public struct ResolvedEndpoint: Sendable, Equatable {
    /// Scheme, host and optional port/base path (no trailing slash).
    public let baseURL: URL
    public let signingRegion: String
}

/// Resolves endpoints like the AWS CLI: `AWS_ENDPOINT_URL_<SERVICE>` → `AWS_ENDPOINT_URL` → the
/// partition's default (`https://lambda.eu-west-1.amazonaws.com`, IAM's global endpoint).
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` disables the variables.
public struct EndpointResolver: Sendable {
    /// Per-service overrides keyed by the service id (`lambda`, `iam`, `sts`, `cloudtrail`).
    public var overrides: [String: String]
    /// Override for every service.
    public var globalOverride: String?

    public init(overrides: [String: String] = [:], globalOverride: String? = nil) {
        self.overrides = overrides
        self.globalOverride = globalOverride
    }

    /// Reads the endpoint variables from `environment`.
    public init(environment: AWSEnvironment) {
        var overrides: [String: String] = [:]
        var global: String?
        let ignore = environment.variables["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        if !ignore, case .success(let catalog) = ServiceCatalog.bundled {
            for (id, service) in catalog.services {
                if let value = environment.nonEmpty("AWS_ENDPOINT_URL_\(service.envName)") { overrides[id] = value }
            }
            global = environment.nonEmpty("AWS_ENDPOINT_URL")
        }
        self.init(overrides: overrides, globalOverride: global)
    }

    /// The endpoint for service `id` in `region`.
    public func resolve(service id: String, region: String) throws -> ResolvedEndpoint {
        let catalog = try ServiceCatalog.bundled.get()
        let service = try catalog.service(id)
        let partition = catalog.partition(forRegion: region)
        var signingRegion = region
        if let global = service.global?[partition.name] { signingRegion = global.signingRegion }
        if let custom = overrides[id] ?? globalOverride {
            guard let url = URL(string: custom.hasSuffix("/") ? String(custom.dropLast()) : custom),
                  let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
                throw AWSError.invalidConfiguration("endpoint URL '\(custom)' for \(id) is not an http(s) URL (from AWS_ENDPOINT_URL_\(service.envName) or AWS_ENDPOINT_URL)")
            }
            return ResolvedEndpoint(baseURL: url, signingRegion: signingRegion)
        }
        let host = service.global?[partition.name]?.hostname
            ?? "\(service.endpointPrefix).\(region).\(partition.dnsSuffix)"
        guard let url = URL(string: "https://\(host)") else {
            throw AWSError.invalidConfiguration("region '\(region)' does not form a valid endpoint host")
        }
        return ResolvedEndpoint(baseURL: url, signingRegion: signingRegion)
    }
}
