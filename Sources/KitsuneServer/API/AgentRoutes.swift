import Crypto
import Foundation
import Hummingbird

/// `/api/v1/agent/*`: what an in-account agent (`kitsune agent`) pulls and posts. Only an agent
/// token may call them, and only for its own account (403 otherwise). The logic is in
/// ``AgentReportCheck`` and the store; these handlers only check, call and answer.
struct AgentRoutes {
    let store: ServerStore
    let options: ReconcileOptions

    func register(on api: RouterGroup<APIContext>) {
        api.get("agent/desired-state") { request, context in
            let account = try await agent(context)
            let state = try await store.desiredState(for: account, options: options)
            let body = try AgentJSON.encoder().encode(state)
            let etag = "\"" + SHA256.hash(data: body).prefix(16).hexString + "\""
            if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: [.eTag: etag]) }
            var response = Response.json(String(decoding: body, as: UTF8.self))
            response.headers[.eTag] = etag
            return response
        }
        api.post("agent/function-tokens") { request, context in
            let (principal, account) = try await agentPrincipal(context)
            let body = try await JSONBody.read(request, allowed: ["function_arn"])
            let arn = try body.string("function_arn")!
            let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
            guard arn.utf8.count <= 256, parts.count == 7, parts[0] == "arn", parts[2] == "lambda", parts[5] == "function", !parts[6].isEmpty, parts[6].utf8.count <= 64 else {
                throw APIError(.badRequest, "must be a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", field: "function_arn")
            }
            guard parts[4] == account.accountID else { throw APIError(.forbidden, "is not a function of this agent's account \(account.accountID)", field: "function_arn") }
            guard account.regions.contains(String(parts[3])) else { throw APIError(.forbidden, "is not in one of the account's regions", field: "function_arn") }
            try ServerStore.checkName(String(parts[6]), field: "function_arn")
            let scope = FunctionScope(functionName: String(parts[6]), accountID: account.accountID, region: String(parts[3]))
            guard let groupID = account.groupID,
                  let token = try await store.createFunctionToken(groupID: groupID, functions: [scope], name: "function \(scope.functionName)", actor: actor(principal, account)) else {
                throw APIError(.conflict, "the account's enforcer group is missing")
            }
            return Response.json(status: .created) { w in
                w.beginObject(); w.field("id", token.id); w.field("token", token.text); w.endObject()
            }
        }
        api.delete("agent/function-tokens/{id}") { _, context in
            let (principal, account) = try await agentPrincipal(context)
            let id = try context.parameters.require("id")
            guard let groupID = account.groupID, try await store.revokeFunctionToken(id, groupID: groupID, actor: actor(principal, account)) else {
                throw APIError(.notFound, "no live function token \(String(id.prefix(32))) of this account", field: "id")
            }
            return Response(status: .noContent)
        }
        api.post("agent/report") { request, context in
            let (principal, account) = try await agentPrincipal(context)
            var request = request
            let buffer = try await request.collectBody(upTo: AgentReportCheck.maxBodyBytes)
            let report: AgentReport
            do { report = try AgentJSON.decoder().decode(AgentReport.self, from: Data(buffer.readableBytesView)) } catch {
                let (field, reason) = AgentJSON.field(of: error)
                throw APIError(.badRequest, reason, field: field)
            }
            let tokens = try await store.functionTokenIDs(groupID: account.groupID ?? "")
            let checked = try AgentReportCheck(account: account, tokenIDs: tokens).check(report)
            try await store.apply(checked, account: account, actor: actor(principal, account))
            return Response.json { w in
                w.beginObject(); w.field("functions", checked.functions.count); w.field("regions", strings: checked.syncedRegions); w.endObject()
            }
        }
    }

    private func agent(_ context: APIContext) async throws -> AWSAccountRecord {
        try await agentPrincipal(context).1
    }

    /// The caller, who must be an agent token of a connected agent-mode account.
    private func agentPrincipal(_ context: APIContext) async throws -> (Principal, AWSAccountRecord) {
        guard let principal = context.principal else { throw APIError(.unauthorized, "authentication required") }
        guard principal.role == .agent else { throw APIError(.forbidden, "only an in-account agent's token may do this") }
        guard let account = try await store.agentAccount(for: principal) else {
            throw APIError(.forbidden, "this agent token's account is not connected in agent mode any more")
        }
        return (principal, account)
    }

    private func actor(_ principal: Principal, _ account: AWSAccountRecord) -> String { "agent:\(account.accountID)" }
}
