import Foundation

/// The risk tables of `Data/iam-risk.json`: probe resources, broad managed policies, privilege
/// escalation paths, data-exfiltration grants, narrowing suggestions, known layer publishers and the
/// environment-variable secret rules.
public struct IAMRiskTable: Decodable, Sendable {
    public struct ManagedPolicy: Decodable, Sendable {
        public var name: String
        public var admin: Bool
        public var risk: String
    }
    public struct EscalationPath: Decodable, Sendable {
        public var id: String
        public var actions: [String]
        public var risk: String
    }
    public struct ExfiltrationGrant: Decodable, Sendable {
        public var action: String
        public var risk: String
    }
    public struct Narrowing: Decodable, Sendable {
        public var actions: [String]
        public var resource: String
    }
    public struct Publisher: Decodable, Sendable {
        public var account: String
        public var name: String
    }
    public struct InsightsLayer: Decodable, Sendable {
        public var account: String
        public var layerPrefix: String
    }
    public struct SecretValueRule: Decodable, Sendable {
        public var id: String
        public var pattern: String
    }
    public struct SecretEnvironment: Decodable, Sendable {
        public var namePattern: String
        public var nameExclusions: String
        public var valueRules: [SecretValueRule]
        public var referencePattern: String
        public var deployTimeResolvePattern: String
    }

    public var probeResources: [String: String]
    public var adminProbeAction: String
    public var wildcardResourceAllowedActions: [String]
    public var broadManagedPolicies: [ManagedPolicy]
    public var escalationPaths: [EscalationPath]
    public var exfiltrationGrants: [ExfiltrationGrant]
    public var narrowing: [String: Narrowing]
    public var knownLayerPublishers: [Publisher]
    public var lambdaInsightsLayer: InsightsLayer
    public var secretEnvironment: SecretEnvironment
    /// AWS managed policies known to be narrow (logging, VPC ENIs, event source polling).
    public var narrowManagedPolicies: [String]

    /// The table shipped in the module's resources.
    public static func bundled() throws -> IAMRiskTable {
        let table = try PostureResources.json(IAMRiskTable.self, "iam-risk.json")
        for pattern in [table.secretEnvironment.namePattern, table.secretEnvironment.nameExclusions,
                        table.secretEnvironment.referencePattern, table.secretEnvironment.deployTimeResolvePattern] + table.secretEnvironment.valueRules.map(\.pattern) {
            do { _ = try NSRegularExpression(pattern: pattern) } catch {
                throw PostureDataError.invalid("iam-risk.json", "bad regular expression \(pattern)")
            }
        }
        return table
    }

    /// A resource ARN of `service` that no policy names explicitly, in `account`/`region`: a statement
    /// covering it covers arbitrary resources of that service.
    public func probe(service: String, account: String, region: String) -> String {
        let template = probeResources[service.lowercased()] ?? probeResources["default"] ?? "*"
        return template.replacingOccurrences(of: "{service}", with: service.lowercased())
            .replacingOccurrences(of: "{account}", with: account)
            .replacingOccurrences(of: "{region}", with: region)
    }

    /// The probe for an action's service (`iam:PassRole` → the IAM probe).
    public func probe(action: String, account: String, region: String) -> String {
        probe(service: String(action.split(separator: ":").first ?? "default"), account: account, region: region)
    }

    /// The broad-policy entry for a managed policy ARN or name, if it is an AWS managed one in the list.
    public func broadPolicy(arnOrName: String) -> ManagedPolicy? {
        let isAWSManaged = arnOrName.contains(":iam::aws:policy/") || !arnOrName.contains(":")
        guard isAWSManaged else { return nil }
        let name = arnOrName.split(separator: "/").last.map(String.init) ?? arnOrName
        return broadManagedPolicies.first { $0.name == name }
    }
}
