import Foundation

/// Credentials served over HTTP by the compute platform: the container endpoint (ECS, EKS Pod
/// Identity, CodeBuild) and the EC2 instance metadata service (IMDSv2). Last in the chain, as in
/// the AWS CLI.
struct MetadataCredentials: Sendable {
    let environment: AWSEnvironment
    /// Short timeout: off EC2 the metadata address does not answer and must not stall the CLI.
    let transport: any HTTPTransport = URLSessionTransport(timeout: 2)

    private struct Payload: Decodable {
        let AccessKeyId: String
        let SecretAccessKey: String
        let Token: String?
        let Expiration: String?
    }

    /// Hosts allowed for `AWS_CONTAINER_CREDENTIALS_FULL_URI` over plain HTTP (the credentials must
    /// not be fetched from an arbitrary network host).
    static let allowedHTTPHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "[::1]", "169.254.170.2",
                                                "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]"]

    /// Container credentials when `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`/`_FULL_URI` is set; nil otherwise.
    func container() async throws -> AWSCredentials? {
        let url: URL
        if let relative = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            guard let value = URL(string: "http://169.254.170.2" + relative) else {
                throw AWSError.invalidConfiguration("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI '\(relative)' is not a path")
            }
            url = value
        } else if let full = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            guard let value = URL(string: full), let host = value.host,
                  value.scheme == "https" || (value.scheme == "http" && Self.allowedHTTPHosts.contains(host)) else {
                throw AWSError.invalidConfiguration("AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' must be https or a loopback/ECS/EKS address")
            }
            url = value
        } else {
            return nil
        }
        var headers: [HTTPHeader] = []
        if let file = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw AWSError.invalidConfiguration("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file) cannot be read")
            }
            headers.append(HTTPHeader("Authorization", String(decoding: data, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            headers.append(HTTPHeader("Authorization", token))
        }
        let body = try await fetch(HTTPRequest(method: "GET", url: url, headers: headers, body: []), what: "container credentials")
        return try decode(body, source: "container credentials endpoint \(url.absoluteString)")
    }

    /// EC2 instance-profile credentials through IMDSv2 (nil when disabled or not on EC2).
    func instance() async -> Result<AWSCredentials, AWSError>? {
        if environment.variables["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { return nil }
        let base = environment.nonEmpty("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        guard let tokenURL = URL(string: trimmed + "/latest/api/token"),
              let listURL = URL(string: trimmed + "/latest/meta-data/iam/security-credentials/") else {
            return .failure(.invalidConfiguration("AWS_EC2_METADATA_SERVICE_ENDPOINT '\(base)' is not a URL"))
        }
        do {
            let token = String(decoding: try await fetch(HTTPRequest(
                method: "PUT", url: tokenURL, headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600")], body: []),
                what: "IMDSv2 token"), as: UTF8.self)
            let auth = [HTTPHeader("X-aws-ec2-metadata-token", token)]
            let roles = String(decoding: try await fetch(HTTPRequest(method: "GET", url: listURL, headers: auth, body: []),
                                                         what: "instance profile name"), as: UTF8.self)
            guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty,
                  let roleURL = URL(string: listURL.absoluteString + AWSURIEncoding.encode(role)) else {
                return .failure(.missingCredentials(searched: ["EC2 instance metadata at \(trimmed): no instance profile attached"]))
            }
            let body = try await fetch(HTTPRequest(method: "GET", url: roleURL, headers: auth, body: []),
                                       what: "instance profile credentials")
            return .success(try decode(body, source: "EC2 instance profile \(role)"))
        } catch let error as AWSError {
            return .failure(error)
        } catch {
            return .failure(.network(service: "imds", action: "credentials", endpoint: trimmed, detail: "\(error)"))
        }
    }

    private func fetch(_ request: HTTPRequest, what: String) async throws -> [UInt8] {
        let response: HTTPResponse
        do { response = try await transport.send(request) } catch {
            throw AWSError.network(service: "metadata", action: what, endpoint: request.url.absoluteString, detail: "\(error)")
        }
        guard response.status == 200 else {
            throw AWSError.invalidConfiguration("\(what) at \(request.url.absoluteString) answered HTTP \(response.status)")
        }
        return response.body
    }

    private func decode(_ body: [UInt8], source: String) throws -> AWSCredentials {
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(body)) else {
            throw AWSError.invalidConfiguration("\(source) returned no AccessKeyId/SecretAccessKey JSON")
        }
        var expiration: Date?
        if let text = payload.Expiration {
            guard let date = parseAWSDate(text) else {
                throw AWSError.invalidConfiguration("\(source): Expiration '\(text)' is not ISO 8601")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: payload.AccessKeyId, secretAccessKey: payload.SecretAccessKey,
                              sessionToken: payload.Token, expiration: expiration, source: source)
    }
}
