import Foundation
import Hummingbird
import KitsunePolicy

/// Runtime policies: create, read, update (a new immutable version each time), delete, versions with
/// diffs, restore, and a preview of the functions a policy would cover. Editors write, viewers read.
struct PolicyRoutes {
    let store: ServerStore

    func register(on api: RouterGroup<APIContext>) {
        api.get("policies") { _, context in
            _ = try context.require(.viewer)
            let policies = try await store.policies()
            return Response.json { w in
                w.beginObject(); w.key("policies"); w.beginArray()
                for p in policies { APIRender.policy(p, in: &w) }
                w.endArray(); w.endObject()
            }
        }
        api.post("policies") { request, context in
            let principal = try context.require(.editor)
            let policy = try await PolicyDocument.read(request)
            let saved = try await store.createPolicy(policy, actor: AdminRoutes.actor(principal))
            return Response.json(status: .created) { APIRender.policy(saved, in: &$0) }
        }
        api.post("policies/preview") { request, context in
            _ = try context.require(.viewer)
            let policy = try await PolicyDocument.read(request)
            let preview = PolicyPreview(candidate: policy, policies: try await store.policies(), functions: try await store.functions())
            return Response.json { APIRender.preview(preview, in: &$0) }
        }
        api.get("policies/{id}") { _, context in
            _ = try context.require(.viewer)
            let policy = try await Self.policy(context, store)
            return Response.json { APIRender.policy(policy, in: &$0) }
        }
        api.put("policies/{id}") { request, context in
            let principal = try context.require(.editor)
            let id = try context.parameters.require("id")
            let expected = try request.headers[.ifMatch].map { v throws -> Int64 in
                guard let n = Int64(v.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))), n > 0 else {
                    throw APIError(.badRequest, "If-Match must be the version you edited", field: "If-Match")
                }
                return n
            }
            let policy = try await PolicyDocument.read(request)
            guard let saved = try await store.updatePolicy(id, policy, expectedVersion: expected, actor: AdminRoutes.actor(principal)) else {
                throw APIError(.notFound, "no policy \(String(id.prefix(64)))", field: "id")
            }
            return Response.json { APIRender.policy(saved, in: &$0) }
        }
        api.delete("policies/{id}") { _, context in
            let principal = try context.require(.editor)
            let id = try context.parameters.require("id")
            guard try await store.deletePolicy(id, actor: AdminRoutes.actor(principal)) else { throw APIError(.notFound, "no policy \(String(id.prefix(64)))", field: "id") }
            return Response(status: .noContent)
        }
        api.get("policies/{id}/versions") { _, context in
            _ = try context.require(.viewer)
            let id = try context.parameters.require("id")
            let versions = try await store.policyVersions(id)
            guard !versions.isEmpty else { throw APIError(.notFound, "no policy \(String(id.prefix(64)))", field: "id") }
            return Response.json { APIRender.versions(versions, in: &$0) }
        }
        api.post("policies/{id}/versions/{version}/restore") { _, context in
            let principal = try context.require(.editor)
            let id = try context.parameters.require("id")
            guard let version = Int64(try context.parameters.require("version")), version > 0 else { throw APIError(.badRequest, "must be a version number", field: "version") }
            let versions = try await store.policyVersions(id)
            guard let old = versions.first(where: { $0.version == version }) else { throw APIError(.notFound, "policy \(String(id.prefix(64))) has no version \(version)", field: "version") }
            let policy: RuntimePolicy
            do { policy = try RuntimePolicy(yaml: old.document) } catch {
                throw APIError(.unprocessableContent, "version \(version) no longer validates with this enforcer: \(error)", field: "version")
            }
            let actor = AdminRoutes.actor(principal)
            let result: StoredPolicy
            if let saved = try await store.updatePolicy(old.policyID, policy, change: "restore v\(version)", actor: actor) { result = saved }
            else { result = try await store.createPolicy(policy, actor: actor) }     // the policy was deleted: restored as live
            return Response.json { APIRender.policy(result, in: &$0) }
        }
    }

    static func policy(_ context: APIContext, _ store: ServerStore) async throws -> StoredPolicy {
        let id = try context.parameters.require("id")
        guard let policy = try await store.policy(id) else { throw APIError(.notFound, "no policy \(String(id.prefix(64)))", field: "id") }
        return policy
    }
}

/// Reads a policy from a request body: YAML (`application/yaml`, `text/yaml`) or its JSON equivalent
/// (`application/json`), validated with the enforcer's own parser. A mistake is a 400 naming the
/// field and line.
enum PolicyDocument {
    static func read(_ request: Request) async throws -> RuntimePolicy {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: RuntimePolicy.maxDocumentBytes) } catch {
            throw APIError(.contentTooLarge, "a policy document is at most \(RuntimePolicy.maxDocumentBytes / 1024) KB", field: "body")
        }
        let bytes = Array(buffer.readableBytesView)
        let type = request.headers[.contentType]?.lowercased() ?? ""
        do {
            if type.hasPrefix("application/json") {
                return try RuntimePolicy(yaml: try RuntimePolicy.yaml(fromJSON: Data(bytes)))
            }
            guard type.hasPrefix("application/yaml") || type.hasPrefix("text/yaml") || type.hasPrefix("application/x-yaml") else {
                throw APIError(.unsupportedMediaType, "send the policy as application/yaml or application/json", field: "Content-Type")
            }
            guard let text = String(validating: bytes, as: UTF8.self) else { throw APIError(.badRequest, "the document is not UTF-8", field: "body") }
            return try RuntimePolicy(yaml: text)
        } catch let error as RuntimePolicyError {
            var answer = APIError(.badRequest, error.description, field: error.field.isEmpty ? "document" : error.field)
            if error.line > 0 { answer.extra.append(("line", String(error.line))) }
            throw answer
        }
    }
}
