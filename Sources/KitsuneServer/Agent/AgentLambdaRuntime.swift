import Foundation
import KitsuneAWS

/// The agent as a Lambda function on `provided.al2023` (`kitsune agent --lambda`): a custom runtime
/// loop on the Runtime API — `/next`, one pass, then `/response` with the pass, or `/error`.
public struct AgentLambdaRuntime: Sendable {
    /// `AWS_LAMBDA_RUNTIME_API` (host:port).
    public let api: String
    let transport: any HTTPTransport

    public init(api: String, transport: any HTTPTransport = URLSessionTransport(timeout: 86_400)) {
        self.api = api
        self.transport = transport
    }

    private func url(_ path: String) throws -> URL {
        guard let url = URL(string: "http://\(api)/2018-06-01/runtime/\(path)") else { throw AgentError("AWS_LAMBDA_RUNTIME_API \(api): not host:port") }
        return url
    }

    /// Waits for the next invocation; its request id.
    public func next() async throws -> String {
        let response = try await transport.send(HTTPRequest(method: "GET", url: try url("invocation/next"), headers: [], body: []))
        guard response.status == 200, let id = response.headers["lambda-runtime-aws-request-id"], !id.isEmpty, !id.contains("/") else {
            throw AgentError("the Runtime API's /next answered \(response.status) without a usable request id")
        }
        return id
    }

    public func respond(_ id: String, json: String) async throws {
        _ = try await transport.send(HTTPRequest(method: "POST", url: try url("invocation/\(id)/response"),
                                                 headers: [HTTPHeader("Content-Type", "application/json")], body: Array(json.utf8)))
    }

    public func fail(_ id: String, message: String) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["errorMessage": message, "errorType": "KitsuneAgentPassFailed"])
        _ = try await transport.send(HTTPRequest(method: "POST", url: try url("invocation/\(id)/error"),
                                                 headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Lambda-Runtime-Function-Error-Type", "KitsuneAgentPassFailed")],
                                                 body: Array(body)))
    }

    /// Serves invocations until `limit` of them were handled (nil: forever): each runs `pass`.
    public func serve(limit: Int? = nil, _ pass: @Sendable () async throws -> InAccountAgent.PassResult) async throws {
        var handled = 0
        while limit.map({ handled < $0 }) ?? true {
            let id = try await next()
            do {
                let result = try await pass()
                if result.failed {
                    try await fail(id, message: "the pass could not list: " + result.report.failures.map { "\($0.region): \($0.error)" }.joined(separator: "; "))
                } else {
                    try await respond(id, json: result.json)
                }
            } catch {
                try await fail(id, message: "\(error)")
            }
            handled += 1
        }
    }
}
