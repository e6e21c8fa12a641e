import Foundation

/// Who the caller is (`sts:GetCallerIdentity`).
public struct CallerIdentity: Sendable, Equatable {
    public let account: String
    public let arn: String
    public let userID: String
}

/// AWS STS (query protocol).
public struct STSClient: Sendable {
    let client: AWSClient

    /// `GetCallerIdentity`.
    public func getCallerIdentity() async throws -> CallerIdentity {
        let result = try await client.queryAction(service: "sts", action: "GetCallerIdentity", parameters: [])
        guard let account = result.string("Account"), let arn = result.string("Arn") else {
            throw AWSError.invalidResponse(action: "sts:GetCallerIdentity", detail: "no Account/Arn in the answer")
        }
        return CallerIdentity(account: account, arn: arn, userID: result.string("UserId") ?? "")
    }

    /// `AssumeRole`: temporary credentials for `roleARN`.
    public func assumeRole(roleARN: String, sessionName: String, externalID: String? = nil,
                           durationSeconds: Int? = nil) async throws -> AWSCredentials {
        var parameters = [("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let result = try await client.queryAction(service: "sts", action: "AssumeRole", parameters: parameters)
        guard let creds = result.child("Credentials"), let key = creds.string("AccessKeyId"),
              let secret = creds.string("SecretAccessKey") else {
            throw AWSError.invalidResponse(action: "sts:AssumeRole", detail: "no Credentials in the answer")
        }
        let expiration = creds.string("Expiration").flatMap(parseAWSDate)
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: creds.string("SessionToken"),
                              expiration: expiration, source: "role \(roleARN)")
    }
}

/// Parses the ISO 8601 timestamps AWS returns (with or without fractional seconds).
func parseAWSDate(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
}
