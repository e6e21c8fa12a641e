import Foundation
import Hummingbird

/// Alert destinations (editors write, viewers read; targets and secrets are write-only) and the
/// outbox of alerts.
struct AlertRoutes {
    let store: ServerStore
    let engine: AlertEngine

    func register(on api: RouterGroup<APIContext>) {
        let store = self.store, engine = self.engine
        api.post("alert-destinations") { request, context in
            let principal = try context.require(.editor)
            let body = try await JSONBody.read(request, allowed: ["name", "kind", "target", "secret", "match", "enabled"])
            let name = try body.string("name")!
            try ServerStore.checkName(name)
            guard let kind = AlertDestinationKind(rawValue: try body.string("kind")!) else {
                throw APIError(.badRequest, "must be one of \(AlertDestinationKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "kind")
            }
            let target = try body.string("target")!
            try AlertDestination.checkTarget(target, kind: kind)
            let secret = try Self.secret(body, kind: kind)
            let match = try AlertMatch.parse(body.members["match"], table: engine.table)
            let d = try await store.createDestination(name: name, kind: kind, target: target, secret: secret, match: match,
                                                      enabled: try Self.bool(body, "enabled") ?? true, actor: AdminRoutes.actor(principal))
            return Response.json(status: .created) { Self.render(d, in: &$0) }
        }
        api.get("alert-destinations") { _, context in
            _ = try context.require(.viewer)
            let list = try await store.listDestinations()
            return Response.json { w in
                w.beginObject(); w.key("destinations"); w.beginArray()
                for d in list { Self.render(d, in: &w) }
                w.endArray(); w.endObject()
            }
        }
        api.get("alert-destinations/{id}") { _, context in
            _ = try context.require(.viewer)
            let d = try await Self.destination(context, store)
            return Response.json { Self.render(d, in: &$0) }
        }
        api.patch("alert-destinations/{id}") { request, context in
            let principal = try context.require(.editor)
            var d = try await Self.destination(context, store)
            let body = try await JSONBody.read(request, allowed: ["name", "target", "secret", "match", "enabled"])
            if let name = try body.string("name", required: false) { try ServerStore.checkName(name); d.name = name }
            if let target = try body.string("target", required: false) { try AlertDestination.checkTarget(target, kind: d.kind); d.target = target }
            if body.members["secret"] != nil { d.secret = try Self.secret(body, kind: d.kind) }
            if body.members["match"] != nil { d.match = try AlertMatch.parse(body.members["match"], table: engine.table) }
            if let enabled = try Self.bool(body, "enabled") { d.enabled = enabled }
            guard try await store.updateDestination(d, actor: AdminRoutes.actor(principal)) else { throw APIError(.notFound, "no alert destination", field: "id") }
            return Response.json { Self.render(d, in: &$0) }
        }
        api.delete("alert-destinations/{id}") { _, context in
            let principal = try context.require(.editor)
            let id = try context.parameters.require("id")
            guard try await store.deleteDestination(id, actor: AdminRoutes.actor(principal)) else {
                throw APIError(.notFound, "no alert destination \(String(id.prefix(64)))", field: "id")
            }
            return Response(status: .noContent)
        }
        api.post("alert-destinations/{id}/test") { _, context in
            _ = try context.require(.editor)
            let d = try await Self.destination(context, store)
            let (alert, result) = await engine.sendTest(to: d)
            return Response.json(status: result.delivered ? .ok : .badGateway) { w in
                w.beginObject()
                w.field("alert_id", alert.id); w.field("delivered", result.delivered)
                w.field("status", result.status.map(Int64.init)); w.field("detail", result.detail)
                w.endObject()
            }
        }
        api.get("alerts") { request, context in
            _ = try context.require(.viewer)
            let query = try QueryParameters(request.uri.query)
            try query.only(["destination", "state", "limit"])
            let stateText = try query.single("state")
            let state = try stateText.map { s throws -> AlertState in
                guard let st = AlertState(rawValue: s) else { throw APIError(.badRequest, "must be pending, delivered or dead", field: "state") }
                return st
            }
            let list = try await store.alerts(destinationID: try query.single("destination"), state: state, limit: try EventRoutes.limit(query))
            return Response.json { w in
                w.beginObject(); w.key("alerts"); w.beginArray()
                for a in list { Self.render(a, in: &w) }
                w.endArray(); w.endObject()
            }
        }
        api.get("alerts/{id}") { _, context in
            _ = try context.require(.viewer)
            let id = try context.parameters.require("id")
            guard let a = try await store.alert(id) else { throw APIError(.notFound, "no alert \(String(id.prefix(64)))", field: "id") }
            return Response.json { Self.render(a, in: &$0) }
        }
        api.post("alerts/{id}/retry") { _, context in
            let principal = try context.require(.editor)
            let id = try context.parameters.require("id")
            guard try await store.retryAlert(id, actor: AdminRoutes.actor(principal)), let a = try await store.alert(id) else {
                throw APIError(.conflict, "no dead alert \(String(id.prefix(64)))", field: "id")
            }
            return Response.json { Self.render(a, in: &$0) }
        }
    }

    static func destination(_ context: APIContext, _ store: ServerStore) async throws -> AlertDestination {
        let id = try context.parameters.require("id")
        guard let d = try await store.destination(id) else { throw APIError(.notFound, "no alert destination \(String(id.prefix(64)))", field: "id") }
        return d
    }

    /// The HMAC secret: webhooks only, 16 to 256 bytes; `null` removes it.
    static func secret(_ body: JSONBody, kind: AlertDestinationKind) throws -> String? {
        guard let secret = try body.string("secret", required: false) else { return nil }
        guard kind == .webhook else { throw APIError(.badRequest, "only webhook destinations are signed", field: "secret") }
        guard (16...256).contains(secret.utf8.count) else { throw APIError(.badRequest, "must be 16 to 256 bytes", field: "secret") }
        return secret
    }

    static func bool(_ body: JSONBody, _ name: String) throws -> Bool? {
        guard let v = body.members[name], v != .null else { return nil }
        guard case .bool(let b) = v else { throw APIError(.badRequest, "must be true or false", field: name) }
        return b
    }

    /// A destination as the API shows it: never the full target URL or the secret.
    static func render(_ d: AlertDestination, in w: inout JSONWriter) {
        w.beginObject()
        w.field("id", d.id); w.field("name", d.name); w.field("kind", d.kind.rawValue)
        w.field("target_hint", d.targetHint); w.field("has_secret", d.secret != nil); w.field("enabled", d.enabled)
        w.key("match"); d.match.write(into: &w)
        w.field("created", Timestamps.format(d.createdMs)); w.field("updated", Timestamps.format(d.updatedMs))
        w.endObject()
    }

    static func render(_ a: Alert, in w: inout JSONWriter) {
        w.beginObject()
        w.field("id", a.id); w.field("destination_id", a.destinationID); w.field("state", a.state.rawValue)
        w.field("attempts", a.attempts); w.field("next_attempt", a.state == .pending ? Timestamps.format(a.nextAttemptMs) : nil)
        w.field("last_error", a.lastError); w.field("delivered", a.deliveredMs.map(Timestamps.format))
        w.field("severity", a.severity); w.field("count", a.count); w.field("follow_up", a.followUp)
        w.field("first_event_id", a.firstEventID); w.field("last_event_id", a.lastEventID)
        w.field("window_end", Timestamps.format(a.windowEndMs)); w.field("created", Timestamps.format(a.createdMs))
        w.key("event"); AlertFormat.event(a.event, into: &w)
        w.endObject()
    }
}
