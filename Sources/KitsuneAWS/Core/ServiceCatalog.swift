import Foundation

/// What Kitsune knows about one AWS service (loaded from `Data/services.json`).
public struct ServiceDescriptor: Codable, Sendable, Hashable {
    /// SigV4 signing name.
    public let signingName: String
    /// DNS label of the regional endpoint (`lambda` → `lambda.eu-west-1.amazonaws.com`).
    public let endpointPrefix: String
    /// Prefix of the service's IAM actions (`lambda` in `lambda:GetFunction`).
    public let iamPrefix: String
    /// Suffix of the per-service endpoint variable (`AWS_ENDPOINT_URL_<envName>`).
    public let envName: String
    /// `rest-json`, `query` or `json`.
    public let `protocol`: String
    public let apiVersion: String?
    public let jsonVersion: String?
    public let targetPrefix: String?
    /// Global endpoints per partition (IAM).
    public let global: [String: GlobalEndpoint]?

    public struct GlobalEndpoint: Codable, Sendable, Hashable {
        public let hostname: String
        public let signingRegion: String
    }
}

/// An AWS partition: regions sharing a DNS suffix.
public struct PartitionDescriptor: Codable, Sendable, Hashable {
    public let name: String
    public let regionPrefix: String
    public let dnsSuffix: String
}

/// How error codes are treated (loaded from `Data/error-codes.json`).
public struct ErrorCodeTable: Codable, Sendable {
    public let throttling: Set<String>
    public let transient: Set<String>
    public let transientStatus: Set<Int>
    public let throttlingStatus: Set<Int>
    public let expired: Set<String>
    public let accessDenied: Set<String>
    public let invalidCredentials: Set<String>
    public let notFound: Set<String>
}

/// The data tables of this module, loaded once from the bundle.
public struct ServiceCatalog: Sendable {
    public let services: [String: ServiceDescriptor]
    public let partitions: [PartitionDescriptor]
    public let errors: ErrorCodeTable

    private struct ServicesFile: Codable {
        let services: [String: ServiceDescriptor]
        let partitions: [PartitionDescriptor]
    }

    /// The bundled tables (immutable; a load failure is reported on first use).
    public static let bundled: Result<ServiceCatalog, AWSError> = load()

    static func load() -> Result<ServiceCatalog, AWSError> {
        do {
            guard let servicesURL = Bundle.module.url(forResource: "services", withExtension: "json", subdirectory: "Data"),
                  let errorsURL = Bundle.module.url(forResource: "error-codes", withExtension: "json", subdirectory: "Data")
            else { return .failure(.invalidConfiguration("KitsuneAWS resources Data/services.json or Data/error-codes.json are missing from the bundle")) }
            let file = try JSONDecoder().decode(ServicesFile.self, from: Data(contentsOf: servicesURL))
            let errors = try JSONDecoder().decode(ErrorCodeTable.self, from: Data(contentsOf: errorsURL))
            return .success(ServiceCatalog(services: file.services, partitions: file.partitions, errors: errors))
        } catch {
            return .failure(.invalidConfiguration("cannot read KitsuneAWS data tables: \(error)"))
        }
    }

    /// The descriptor of service `id` (`lambda`, `iam`, `sts`, `cloudtrail`).
    public func service(_ id: String) throws -> ServiceDescriptor {
        guard let descriptor = services[id] else {
            throw AWSError.invalidConfiguration("unknown AWS service '\(id)' (not in Data/services.json)")
        }
        return descriptor
    }

    /// The partition a region belongs to (`cn-north-1` → `aws-cn`).
    public func partition(forRegion region: String) -> PartitionDescriptor {
        partitions.first { !$0.regionPrefix.isEmpty && region.hasPrefix($0.regionPrefix) }
            ?? partitions.first { $0.regionPrefix.isEmpty }
            ?? PartitionDescriptor(name: "aws", regionPrefix: "", dnsSuffix: "amazonaws.com")
    }
}
