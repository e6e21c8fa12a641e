import Foundation

/// A CloudTrail trail (`DescribeTrails`).
public struct CloudTrailTrail: Codable, Sendable, Equatable {
    public var name: String
    public var trailARN: String?
    public var homeRegion: String?
    public var isMultiRegionTrail: Bool?
    public var includeGlobalServiceEvents: Bool?
    public var isOrganizationTrail: Bool?
    public var s3BucketName: String?
    public var logFileValidationEnabled: Bool?
    public var kmsKeyId: String?
    public var hasCustomEventSelectors: Bool?

    enum CodingKeys: String, CodingKey {
        case name = "Name", trailARN = "TrailARN", homeRegion = "HomeRegion", isMultiRegionTrail = "IsMultiRegionTrail"
        case includeGlobalServiceEvents = "IncludeGlobalServiceEvents", isOrganizationTrail = "IsOrganizationTrail"
        case s3BucketName = "S3BucketName", logFileValidationEnabled = "LogFileValidationEnabled", kmsKeyId = "KmsKeyId"
        case hasCustomEventSelectors = "HasCustomEventSelectors"
    }
}

/// `GetEventSelectors`' answer (basic and advanced selectors).
public struct CloudTrailEventSelectors: Codable, Sendable, Equatable {
    public var eventSelectors: [EventSelector]?
    public var advancedEventSelectors: [AdvancedEventSelector]?

    enum CodingKeys: String, CodingKey { case eventSelectors = "EventSelectors", advancedEventSelectors = "AdvancedEventSelectors" }

    /// A basic event selector.
    public struct EventSelector: Codable, Sendable, Equatable {
        public var readWriteType: String?
        public var includeManagementEvents: Bool?
        public var dataResources: [DataResource]?
        enum CodingKeys: String, CodingKey {
            case readWriteType = "ReadWriteType", includeManagementEvents = "IncludeManagementEvents", dataResources = "DataResources"
        }
    }

    /// Data events of one resource type (`AWS::Lambda::Function`, `AWS::S3::Object`).
    public struct DataResource: Codable, Sendable, Equatable {
        public var type: String?
        public var values: [String]?
        enum CodingKeys: String, CodingKey { case type = "Type", values = "Values" }
    }

    /// An advanced event selector.
    public struct AdvancedEventSelector: Codable, Sendable, Equatable {
        public var name: String?
        public var fieldSelectors: [FieldSelector]
        enum CodingKeys: String, CodingKey { case name = "Name", fieldSelectors = "FieldSelectors" }
    }

    /// One field condition of an advanced selector.
    public struct FieldSelector: Codable, Sendable, Equatable {
        public var field: String
        public var equals: [String]?
        public var startsWith: [String]?
        public var notEquals: [String]?
        enum CodingKeys: String, CodingKey { case field = "Field", equals = "Equals", startsWith = "StartsWith", notEquals = "NotEquals" }
    }
}

/// One event from `LookupEvents`. `cloudTrailEvent` is the full record as JSON text.
public struct CloudTrailLookupEvent: Codable, Sendable, Equatable {
    public var eventID: String?
    public var eventName: String?
    public var eventSource: String?
    /// Seconds since 1970 (the JSON 1.1 timestamp format).
    public var eventTime: Double?
    public var username: String?
    public var accessKeyID: String?
    public var cloudTrailEvent: String?

    enum CodingKeys: String, CodingKey {
        case eventID = "EventId", eventName = "EventName", eventSource = "EventSource", eventTime = "EventTime"
        case username = "Username", accessKeyID = "AccessKeyId", cloudTrailEvent = "CloudTrailEvent"
    }
}

/// AWS CloudTrail (JSON 1.1).
public struct CloudTrailClient: Sendable {
    let client: AWSClient

    private func call<T: Decodable>(_ type: T.Type, _ action: String, _ body: [String: Any]) async throws -> T {
        let data = try JSONSerialization.data(withJSONObject: body)
        let answer = try await client.jsonRPC(service: "cloudtrail", action: action, body: Array(data))
        return try client.decode(type, answer, action: "cloudtrail:\(action)")
    }

    /// `DescribeTrails` (includes shadow trails of other regions when `includeShadowTrails`).
    public func describeTrails(includeShadowTrails: Bool = true) async throws -> [CloudTrailTrail] {
        struct Output: Decodable { let trailList: [CloudTrailTrail]? }
        return try await call(Output.self, "DescribeTrails", ["includeShadowTrails": includeShadowTrails]).trailList ?? []
    }

    /// `GetEventSelectors` of a trail (name or ARN).
    public func getEventSelectors(_ trail: String) async throws -> CloudTrailEventSelectors {
        try await call(CloudTrailEventSelectors.self, "GetEventSelectors", ["TrailName": trail])
    }

    /// `LookupEvents` for one attribute (e.g. `AccessKeyId`), following `NextToken` up to `maxEvents`.
    public func lookupEvents(attributeKey: String, attributeValue: String, start: Date? = nil, end: Date? = nil,
                             maxEvents: Int = 10_000) async throws -> [CloudTrailLookupEvent] {
        struct Page: Decodable { let Events: [CloudTrailLookupEvent]?; let NextToken: String? }
        var events: [CloudTrailLookupEvent] = []
        var token: String?
        var seen: Set<String> = []
        repeat {
            var body: [String: Any] = ["LookupAttributes": [["AttributeKey": attributeKey, "AttributeValue": attributeValue]],
                                       "MaxResults": 50]
            if let start { body["StartTime"] = start.timeIntervalSince1970 }
            if let end { body["EndTime"] = end.timeIntervalSince1970 }
            if let token { body["NextToken"] = token }
            let page = try await call(Page.self, "LookupEvents", body)
            events += page.Events ?? []
            token = page.NextToken.flatMap { $0.isEmpty ? nil : $0 }
            if let next = token, !seen.insert(next).inserted {
                throw AWSError.invalidResponse(action: "cloudtrail:LookupEvents", detail: "paging token repeated; stopping")
            }
        } while token != nil && events.count < maxEvents
        return events
    }
}
