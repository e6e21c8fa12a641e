import Foundation

/// Amazon SNS (query protocol): publishing to a topic.
public struct SNSClient: Sendable {
    let client: AWSClient

    /// `Publish` to `topicARN` (sent to the topic's own region); `attributes` become String message
    /// attributes. Returns the message id.
    public func publish(topicARN: String, message: String, subject: String? = nil,
                        attributes: [(name: String, value: String)] = []) async throws -> String {
        let parts = topicARN.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sns", !parts[3].isEmpty else {
            throw AWSError.invalidInput("\(topicARN): not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        }
        var parameters = [("TopicArn", topicARN), ("Message", message)]
        if let subject { parameters.append(("Subject", subject)) }
        for (i, attribute) in attributes.enumerated() {
            let prefix = "MessageAttributes.entry.\(i + 1)"
            parameters += [("\(prefix).Name", attribute.name), ("\(prefix).Value.DataType", "String"),
                           ("\(prefix).Value.StringValue", attribute.value)]
        }
        let regional = client.region == String(parts[3]) ? client : client.inRegion(String(parts[3]))
        let result = try await regional.queryAction(service: "sns", action: "Publish", parameters: parameters)
        guard let id = result.string("MessageId") else {
            throw AWSError.invalidResponse(action: "sns:Publish", detail: "no MessageId in the answer")
        }
        return id
    }

    /// `CreateTopic` (idempotent): returns the topic ARN.
    public func createTopic(name: String) async throws -> String {
        let result = try await client.queryAction(service: "sns", action: "CreateTopic", parameters: [("Name", name)])
        guard let arn = result.string("TopicArn") else {
            throw AWSError.invalidResponse(action: "sns:CreateTopic", detail: "no TopicArn in the answer")
        }
        return arn
    }

    /// `Subscribe` an endpoint (for example an `http` URL) to a topic; returns the subscription ARN.
    public func subscribe(topicARN: String, protocol kind: String, endpoint: String) async throws -> String {
        let result = try await client.queryAction(service: "sns", action: "Subscribe",
                                                  parameters: [("TopicArn", topicARN), ("Protocol", kind), ("Endpoint", endpoint)])
        return result.string("SubscriptionArn") ?? ""
    }
}
