import Foundation

/// An AWS Config configuration recorder (`DescribeConfigurationRecorders`).
public struct ConfigurationRecorder: Codable, Sendable, Equatable {
    public var name: String?
    public var roleARN: String?
    /// What is recorded; AWS's default when absent is every supported resource type.
    public var recordingGroup: RecordingGroup?

    enum CodingKeys: String, CodingKey { case name, roleARN, recordingGroup }

    /// `RecordingGroup`: all supported types, an inclusion list, or all types but an exclusion list.
    public struct RecordingGroup: Codable, Sendable, Equatable {
        public var allSupported: Bool?
        public var includeGlobalResourceTypes: Bool?
        public var resourceTypes: [String]?
        public var exclusionByResourceTypes: Exclusion?
        public var recordingStrategy: Strategy?

        /// `ExclusionByResourceTypes`.
        public struct Exclusion: Codable, Sendable, Equatable {
            public var resourceTypes: [String]?
        }

        /// `RecordingStrategy`: `ALL_SUPPORTED_RESOURCE_TYPES`, `INCLUSION_BY_RESOURCE_TYPES` or
        /// `EXCLUSION_BY_RESOURCE_TYPES`.
        public struct Strategy: Codable, Sendable, Equatable {
            public var useOnly: String?
        }
    }

    /// Whether this recorder's recording group covers `resourceType` (e.g. `AWS::Lambda::Function`).
    /// Follows the API: an explicit strategy wins; otherwise `allSupported` (default true when the
    /// group is absent) or the inclusion list decides.
    public func records(_ resourceType: String) -> Bool {
        guard let group = recordingGroup else { return true }
        switch group.recordingStrategy?.useOnly {
        case "EXCLUSION_BY_RESOURCE_TYPES":
            return !(group.exclusionByResourceTypes?.resourceTypes ?? []).contains(resourceType)
        case "INCLUSION_BY_RESOURCE_TYPES":
            return (group.resourceTypes ?? []).contains(resourceType)
        case "ALL_SUPPORTED_RESOURCE_TYPES":
            return true
        default:
            if group.allSupported ?? true { return true }
            return (group.resourceTypes ?? []).contains(resourceType)
        }
    }
}

/// A recorder's state (`DescribeConfigurationRecorderStatus`).
public struct ConfigurationRecorderStatus: Codable, Sendable, Equatable {
    public var name: String?
    /// True while the recorder is started.
    public var recording: Bool?
    /// `Pending`, `Success` or `Failure` of the last recording attempt.
    public var lastStatus: String?
    public var lastErrorCode: String?
    public var lastErrorMessage: String?
}

/// AWS Config (JSON 1.1, target prefix `StarlingDoveService`, signing name `config`; endpoint
/// override `AWS_ENDPOINT_URL_CONFIG`). Read-only: the calls CIS 4.1 needs.
public struct ConfigServiceClient: Sendable {
    let client: AWSClient

    private func call<T: Decodable>(_ type: T.Type, _ action: String, _ body: [String: Any]) async throws -> T {
        let data = try JSONSerialization.data(withJSONObject: body)
        let answer = try await client.jsonRPC(service: "config", action: action, body: Array(data))
        return try client.decode(type, answer, action: "config:\(action)")
    }

    /// `DescribeConfigurationRecorders`: every recorder of the region (empty when none).
    public func describeConfigurationRecorders() async throws -> [ConfigurationRecorder] {
        struct Output: Decodable { let ConfigurationRecorders: [ConfigurationRecorder]? }
        return try await call(Output.self, "DescribeConfigurationRecorders", [:]).ConfigurationRecorders ?? []
    }

    /// `DescribeConfigurationRecorderStatus`: the state of every recorder of the region.
    public func describeConfigurationRecorderStatus() async throws -> [ConfigurationRecorderStatus] {
        struct Output: Decodable { let ConfigurationRecordersStatus: [ConfigurationRecorderStatus]? }
        return try await call(Output.self, "DescribeConfigurationRecorderStatus", [:]).ConfigurationRecordersStatus ?? []
    }
}
