import Foundation
import KitsuneAWS

/// Why the agent could not talk to the server (or the server refused): the message says which call.
public struct AgentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The agent's side of `/api/v1/agent/*`, with its agent token.
public struct AgentClient: Sendable {
    public let server: URL
    let token: String
    let transport: any HTTPTransport

    public init(server: URL, token: String, transport: any HTTPTransport = URLSessionTransport(timeout: 120)) {
        self.server = server
        self.token = token
        self.transport = transport
    }

    func send(_ method: String, _ path: String, json: [UInt8]? = nil, what: String) async throws -> HTTPResponse {
        var headers = [HTTPHeader("Authorization", "Bearer \(token)"), HTTPHeader("Accept", "application/json")]
        if json != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        let url = server.appendingPathComponent(path)
        let response: HTTPResponse
        do { response = try await transport.send(HTTPRequest(method: method, url: url, headers: headers, body: json ?? [])) } catch {
            throw AgentError("\(what): cannot reach \(server.absoluteString): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
            let message = (object["error"] as? String).map { e in (object["field"] as? String).map { "\($0): \(e)" } ?? e } ?? "HTTP \(response.status)"
            throw AgentError("\(what): the server answered \(response.status): \(message)")
        }
        return response
    }

    /// The account's desired state.
    public func desiredState() async throws -> AgentDesiredState {
        let response = try await send("GET", "api/v1/agent/desired-state", what: "pulling the desired state")
        do { return try AgentJSON.decoder().decode(AgentDesiredState.self, from: Data(response.body)) } catch {
            throw AgentError("pulling the desired state: the server's answer is not one this agent reads (\(AgentJSON.field(of: error).field)); upgrade the agent")
        }
    }

    /// A token scoped to function `arn`.
    public func issueFunctionToken(arn: String) async throws -> TokenSecret {
        let body = try JSONSerialization.data(withJSONObject: ["function_arn": arn])
        let response = try await send("POST", "api/v1/agent/function-tokens", json: Array(body), what: "issuing a token for \(arn)")
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        guard let text = object["token"] as? String, let token = TokenSecret(parsing: Substring(text)) else {
            throw AgentError("issuing a token for \(arn): the server's answer carries no token")
        }
        return token
    }

    /// Revokes function token `id`.
    public func revokeFunctionToken(_ id: String) async throws {
        _ = try await send("DELETE", "api/v1/agent/function-tokens/\(id)", what: "revoking token \(id)")
    }

    /// Posts a pass's report.
    public func report(_ report: AgentReport) async throws {
        _ = try await send("POST", "api/v1/agent/report", json: Array(try AgentJSON.encoder().encode(report)), what: "reporting the pass")
    }
}

/// The agent's tokens come from the server (the only holder of tokens).
struct AgentTokenIssuer: FunctionTokenIssuer {
    let client: AgentClient

    func issue(groupID: String, function: FunctionScope, arn: String, actor: String) async throws -> TokenSecret? {
        try await client.issueFunctionToken(arn: arn)
    }

    func revoke(_ id: String, actor: String) async {
        try? await client.revokeFunctionToken(id)
    }
}
