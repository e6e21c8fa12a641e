import Foundation
import Hummingbird
import KitsunePolicy

/// AWS accounts (admins connect them), the function inventory, reconcile passes and learning.
struct InventoryRoutes {
    let store: ServerStore
    let reconcile: ReconcileRunner?

    func register(on api: RouterGroup<APIContext>) {
        api.post("accounts") { request, context in
            let principal = try context.require(.admin)
            let body = try await JSONBody.read(request, allowed: ["account_id", "regions", "role_arn", "external_id", "mode"])
            let account = try Self.account(body)
            guard account.mode == .agent else {
                let saved = try await store.addAccount(account, actor: AdminRoutes.actor(principal))
                return Response.json(status: .created) { APIRender.account(saved, in: &$0) }
            }
            // The agent's token is shown once, here.
            let (saved, token) = try await store.addAgentAccount(account, actor: AdminRoutes.actor(principal))
            return Response.json(status: .created) { APIRender.account(saved, agentToken: token.text, in: &$0) }
        }
        api.post("accounts/{id}/agent-token") { _, context in
            let principal = try context.require(.admin)
            let id = try context.parameters.require("id")
            guard let token = try await store.rotateAgentToken(account: id, actor: AdminRoutes.actor(principal)) else {
                throw APIError(.notFound, "no agent-mode account \(String(id.prefix(64)))", field: "id")
            }
            return Response.json(status: .created) { w in w.beginObject(); w.field("account_id", id); w.field("agent_token", token.text); w.endObject() }
        }
        api.get("accounts") { _, context in
            _ = try context.require(.viewer)
            let accounts = try await store.accounts()
            return Response.json { w in
                w.beginObject(); w.key("accounts"); w.beginArray(); for a in accounts { APIRender.account(a, in: &w) }; w.endArray(); w.endObject()
            }
        }
        api.delete("accounts/{id}") { _, context in
            let principal = try context.require(.admin)
            let id = try context.parameters.require("id")
            guard try await store.deleteAccount(id, actor: AdminRoutes.actor(principal)) else { throw APIError(.notFound, "no account \(String(id.prefix(64)))", field: "id") }
            return Response(status: .noContent)
        }
        api.get("functions") { request, context in
            _ = try context.require(.viewer)
            let query = try QueryParameters(request.uri.query)
            try query.only(["account", "region", "status", "policy"])
            let status = try query.single("status")
            if let status, DeploymentStatus(rawValue: status) == nil {
                throw APIError(.badRequest, "must be one of \(DeploymentStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "status")
            }
            let policy = try query.single("policy")
            var functions = try await store.functions(account: try query.single("account"), region: try query.single("region"))
            let policies = Dictionary(try await store.policies().map { ($0.id, $0) }) { a, _ in a }
            if let status { functions = functions.filter { $0.deployment.status.rawValue == status } }
            if let policy { functions = functions.filter { $0.deployment.policyID == policy || $0.deployment.policyID.flatMap { policies[$0]?.policy.name } == policy } }
            return Response.json { w in
                w.beginObject(); w.key("functions"); w.beginArray()
                for f in functions { APIRender.function(f, policies: policies, in: &w) }
                w.endArray(); w.endObject()
            }
        }
        api.get("functions/{id}") { _, context in
            _ = try context.require(.viewer)
            let function = try await Self.function(context, store)
            let policies = Dictionary(try await store.policies().map { ($0.id, $0) }) { a, _ in a }
            return Response.json { APIRender.function(function, policies: policies, in: &$0) }
        }
        api.get("functions/{id}/suggested-policy") { request, context in
            _ = try context.require(.viewer)
            let suggestion = try await Self.suggestion(context, store)
            if request.headers[.accept]?.contains("yaml") == true {
                return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: suggestion.document)))
            }
            return Response.json { w in
                w.beginObject(); w.field("document", suggestion.document); w.field("allow", strings: suggestion.proposed)
                w.field("not_proposed", strings: suggestion.refused); w.endObject()
            }
        }
        api.post("functions/{id}/suggested-policy/adopt") { _, context in
            let principal = try context.require(.editor)
            let suggestion = try await Self.suggestion(context, store)
            guard !suggestion.proposed.isEmpty else { throw APIError(.conflict, "nothing was observed for this function yet: run it in learn mode first") }
            let policy: RuntimePolicy
            do { policy = try RuntimePolicy(yaml: suggestion.document) } catch { throw APIError(.unprocessableContent, "the proposal does not validate: \(error)") }
            let actor = AdminRoutes.actor(principal)
            let saved: StoredPolicy
            if let existing = try await store.policy(policy.name), let updated = try await store.updatePolicy(existing.id, policy, change: "adopt suggestion", actor: actor) {
                saved = updated
            } else {
                saved = try await store.createPolicy(policy, actor: actor)
            }
            return Response.json(status: .created) { APIRender.policy(saved, in: &$0) }
        }
        api.post("reconcile") { _, context in
            let principal = try context.require(.editor)
            guard let reconcile else { throw APIError(.serviceUnavailable, "the reconciler is not configured on this server") }
            guard let report = try await reconcile.runNow(actor: AdminRoutes.actor(principal)) else {
                throw APIError(.conflict, "a reconcile pass is already running (on this or another replica); retry shortly")
            }
            return Response.json { APIRender.report(report, in: &$0) }
        }
    }

    static func function(_ context: APIContext, _ store: ServerStore) async throws -> InventoryFunction {
        let id = try context.parameters.require("id")
        guard let function = try await store.function(id) else { throw APIError(.notFound, "no function \(String(id.prefix(80)))", field: "id") }
        return function
    }

    static func suggestion(_ context: APIContext, _ store: ServerStore) async throws -> SuggestedPolicy {
        let function = try await function(context, store)
        return SuggestedPolicy(function: function, observations: try await store.observedExecutables(function: function.name, account: function.accountID, region: function.region))
    }

    /// `{"account_id", "regions", "role_arn"?, "external_id"?}`, each checked by name.
    static func account(_ body: JSONBody) throws -> AWSAccountRecord {
        let id = try body.string("account_id")!
        guard id.utf8.count == 12, id.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { throw APIError(.badRequest, "must be 12 digits", field: "account_id") }
        guard case .array(let items)? = body.members["regions"], (1...30).contains(items.count) else {
            throw APIError(.badRequest, "must be an array of 1 to 30 region names", field: "regions")
        }
        let regions = try items.enumerated().map { i, item throws -> String in
            guard let r = item.string, r.utf8.count <= 32, r.range(of: #"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"#, options: .regularExpression) != nil else {
                throw APIError(.badRequest, "is not an AWS region name", field: "regions[\(i)]")
            }
            return r
        }
        let role = try body.string("role_arn", required: false)
        if let role, role.range(of: #"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"#, options: .regularExpression) == nil {
            throw APIError(.badRequest, "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", field: "role_arn")
        }
        let external = try body.string("external_id", required: false)
        if let external, !(2...1224).contains(external.utf8.count) { throw APIError(.badRequest, "must be 2 to 1224 characters", field: "external_id") }
        let modeText = try body.string("mode", required: false) ?? AccountMode.direct.rawValue
        guard let mode = AccountMode(rawValue: modeText) else { throw APIError(.badRequest, "must be direct or agent", field: "mode") }
        if mode == .agent, role != nil || external != nil {
            throw APIError(.badRequest, "an agent-mode account is reconciled with the agent's own credentials; the server takes no role for it",
                           field: role != nil ? "role_arn" : "external_id")
        }
        return AWSAccountRecord(accountID: id, regions: Array(Set(regions)).sorted(), roleARN: role, externalID: external, groupID: nil, createdMs: 0, mode: mode)
    }
}
