import Foundation
import Hummingbird

/// Enforcer groups and their tokens (editors), API tokens (admins), the fleet and the audit log.
struct AdminRoutes {
    let store: ServerStore
    /// An enforcer not heard from for this long is `stale`.
    let staleAfterMs: Int64

    func register(on api: RouterGroup<APIContext>) {
        api.post("enforcer-groups") { request, context in
            let principal = try context.require(.editor)
            let body = try await JSONBody.read(request, allowed: ["name"])
            let name = try body.string("name")!
            try ServerStore.checkName(name)
            let (group, token) = try await store.createGroup(name: name, actor: Self.actor(principal))
            return Response.json(status: .created) { APIRender.group(group, token: token, in: &$0) }
        }
        api.get("enforcer-groups") { _, context in
            _ = try context.require(.viewer)
            let groups = try await store.listGroups()
            return Response.json { w in
                w.beginObject(); w.key("groups"); w.beginArray()
                for g in groups { APIRender.group(g, in: &w) }
                w.endArray(); w.endObject()
            }
        }
        api.get("enforcer-groups/{id}") { _, context in
            _ = try context.require(.viewer)
            let group = try await Self.group(context, store)
            return Response.json { APIRender.group(group, in: &$0) }
        }
        api.delete("enforcer-groups/{id}") { _, context in
            let principal = try context.require(.editor)
            let id = try context.parameters.require("id")
            guard try await store.deleteGroup(id, actor: Self.actor(principal)) else { throw APIError(.notFound, "no enforcer group \(id)", field: "id") }
            return Response(status: .noContent)
        }
        api.post("enforcer-groups/{id}/rotate") { _, context in
            let principal = try context.require(.editor)
            let group = try await Self.group(context, store)
            guard let token = try await store.rotateGroupToken(group.id, actor: Self.actor(principal)) else { throw APIError(.notFound, "no enforcer group", field: "id") }
            return Response.json { APIRender.group(group, token: token, in: &$0) }
        }
        api.post("enforcer-groups/{id}/tokens") { request, context in
            let principal = try context.require(.editor)
            let group = try await Self.group(context, store)
            let body = try await JSONBody.read(request, allowed: ["name", "functions"])
            let scopes = try Self.scopes(body.members["functions"])
            let name = try body.string("name", required: false) ?? "functions \(scopes.map(\.functionName).joined(separator: ", "))"
            try ServerStore.checkName(String(name.prefix(128)))
            guard let token = try await store.createFunctionToken(groupID: group.id, functions: scopes, name: String(name.prefix(128)),
                                                                  actor: Self.actor(principal)) else { throw APIError(.notFound, "no enforcer group", field: "id") }
            return Response.json(status: .created) { w in
                w.beginObject(); w.field("id", token.id); w.field("token", token.text); w.field("group_id", group.id)
                w.key("functions"); w.beginArray(); for s in scopes { APIRender.scope(s, in: &w) }; w.endArray()
                w.endObject()
            }
        }
        api.get("tokens") { _, context in
            _ = try context.require(.admin)
            let tokens = try await store.listTokens()
            return Response.json { w in
                w.beginObject(); w.key("tokens"); w.beginArray()
                for t in tokens { APIRender.token(t, in: &w) }
                w.endArray(); w.endObject()
            }
        }
        api.post("tokens") { request, context in
            let principal = try context.require(.admin)
            let body = try await JSONBody.read(request, allowed: ["role", "name"])
            guard let role = Role(rawValue: try body.string("role")!), role != .ingest, role != .agent else {
                throw APIError(.badRequest, "must be admin, editor or viewer (enforcers get group tokens, agents get theirs from POST /api/v1/accounts)", field: "role")
            }
            let name = try body.string("name", required: false) ?? role.rawValue
            try ServerStore.checkName(name)
            let token = try await store.createAPIToken(role: role, name: name, actor: Self.actor(principal))
            return Response.json(status: .created) { w in
                w.beginObject(); w.field("id", token.id); w.field("role", role.rawValue); w.field("name", name); w.field("token", token.text); w.endObject()
            }
        }
        api.delete("tokens/{id}") { _, context in
            let principal = try context.require(.admin)
            let id = try context.parameters.require("id")
            guard try await store.revokeToken(id, actor: Self.actor(principal)) else { throw APIError(.notFound, "no live token \(id)", field: "id") }
            return Response(status: .noContent)
        }
        api.get("enforcers") { request, context in
            _ = try context.require(.viewer)
            let query = try QueryParameters(request.uri.query)
            try query.only(["function", "status"])
            let status = try query.single("status")
            guard status == nil || status == "active" || status == "stale" else { throw APIError(.badRequest, "must be active or stale", field: "status") }
            let now = Timestamps.nowMs()
            var fleet = try await store.fleet(sinceMs: now - 30 * 86_400_000, function: try query.single("function"))
            if let status { fleet = fleet.filter { ($0.lastSeenMs >= now - staleAfterMs) == (status == "active") } }
            return APIRender.fleet(fleet, staleBeforeMs: now - staleAfterMs)
        }
        api.get("audit") { request, context in
            _ = try context.require(.viewer)
            let query = try QueryParameters(request.uri.query)
            try query.only(["limit", "before"])
            let limit = try EventRoutes.limit(query)
            let before = try query.single("before").map { v throws -> Int64 in
                guard let n = Int64(v), n > 0 else { throw APIError(.badRequest, "must be an entry id", field: "before") }
                return n
            }
            return APIRender.audit(try await store.auditLog(limit: limit, beforeID: before), limit: limit)
        }
    }

    static func actor(_ p: Principal) -> String { "token \(p.tokenID) (\(p.name))" }

    static func group(_ context: APIContext, _ store: ServerStore) async throws -> EnforcerGroup {
        let id = try context.parameters.require("id")
        guard let group = try await store.group(id) else { throw APIError(.notFound, "no enforcer group \(String(id.prefix(64)))", field: "id") }
        return group
    }

    /// `[{"function_name": …, "account_id"?: …, "region"?: …}]`, 1 to 100 entries.
    static func scopes(_ value: JSONValue?) throws -> [FunctionScope] {
        guard case .array(let items)? = value, (1...100).contains(items.count) else {
            throw APIError(.badRequest, "must be an array of 1 to 100 {\"function_name\", \"account_id\"?, \"region\"?}", field: "functions")
        }
        return try items.enumerated().map { i, item in
            guard let name = item["function_name"]?.string, !name.isEmpty, name.utf8.count <= 256 else {
                throw APIError(.badRequest, "function_name is required", field: "functions[\(i)].function_name")
            }
            let account = item["account_id"]?.string
            if let account, account.utf8.count != 12 || !account.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                throw APIError(.badRequest, "must be 12 digits", field: "functions[\(i)].account_id")
            }
            return FunctionScope(functionName: name, accountID: account, region: item["region"]?.string)
        }
    }
}
