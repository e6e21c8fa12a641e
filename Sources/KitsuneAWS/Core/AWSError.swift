import Foundation

/// Every failure of the AWS client. `description` is a complete sentence for the user.
public enum AWSError: Error, Sendable, CustomStringConvertible, Equatable {
    /// No credentials anywhere; `searched` lists the places looked at, in order.
    case missingCredentials(searched: [String])
    /// Credentials (or the session token) have expired.
    case expiredCredentials(source: String, detail: String)
    /// The credentials were rejected (unknown key, bad signature).
    case invalidCredentials(service: String, action: String, code: String, message: String)
    /// Still throttled after the bounded retries.
    case throttled(service: String, action: String, attempts: Int, code: String)
    /// The caller lacks permission; `action` is the IAM action (`lambda:GetPolicy`).
    case accessDenied(action: String, message: String)
    /// The resource does not exist.
    case notFound(action: String, message: String)
    /// The endpoint could not be reached (after retries).
    case network(service: String, action: String, endpoint: String, detail: String)
    /// Any other error answer from AWS.
    case service(action: String, status: Int, code: String, message: String)
    /// A response Kitsune could not understand.
    case invalidResponse(action: String, detail: String)
    /// Bad configuration (config files, endpoints, profiles).
    case invalidConfiguration(String)
    /// Bad input from the user (ARNs, selectors, files).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .missingCredentials(let searched):
            return "no AWS credentials found; looked in: " + searched.joined(separator: "; ")
        case .expiredCredentials(let source, let detail):
            return "AWS credentials from \(source) have expired (\(detail)); refresh them (e.g. `aws sso login`, new STS session) and retry"
        case .invalidCredentials(let service, let action, let code, let message):
            return "\(service) rejected the credentials for \(action): \(code): \(message)"
        case .throttled(let service, let action, let attempts, let code):
            return "\(service) \(action) is throttled (\(code)); gave up after \(attempts) attempts with exponential backoff"
        case .accessDenied(let action, let message):
            return "access denied: the caller is not allowed to perform \(action)" + (message.isEmpty ? "" : " (\(message))")
        case .notFound(let action, let message):
            return "\(action): not found" + (message.isEmpty ? "" : " (\(message))")
        case .network(let service, let action, let endpoint, let detail):
            return "network failure calling \(service) \(action) at \(endpoint): \(detail)"
        case .service(let action, let status, let code, let message):
            return "\(action) failed: HTTP \(status) \(code)" + (message.isEmpty ? "" : ": \(message)")
        case .invalidResponse(let action, let detail):
            return "\(action): unexpected response from AWS: \(detail)"
        case .invalidConfiguration(let message):
            return "AWS configuration error: \(message)"
        case .invalidInput(let message):
            return message
        }
    }

    /// True for `.accessDenied` (posture checks turn this into MANUAL/ERROR, never PASS).
    public var isAccessDenied: Bool { if case .accessDenied = self { return true }; return false }
    /// True for `.notFound`.
    public var isNotFound: Bool { if case .notFound = self { return true }; return false }
}
