import Hummingbird

/// The JSON answers of the API (see openapi.yaml): one function per shape, so the routes stay thin.
enum APIRender {
    static func ingest(_ r: IngestResult) -> Response {
        Response.json(status: r.rejected.isEmpty ? .accepted : .badRequest) { w in
            w.beginObject()
            if !r.rejected.isEmpty {
                let first = r.rejected[0]
                w.field("error", "\(r.rejected.count) event(s) rejected; the others were stored. First: event \(first.index), field \(first.field): \(first.reason)")
                w.field("field", "events[\(first.index)].\(first.field)")
            }
            w.field("accepted", r.accepted)
            w.field("duplicates", r.duplicates)
            w.key("rejected")
            w.beginArray()
            for p in r.rejected.prefix(100) {
                w.beginObject(); w.field("index", p.index); w.field("field", p.field); w.field("reason", p.reason); w.endObject()
            }
            w.endArray()
            w.endObject()
        }
    }

    static func events(_ events: [StoredEvent], next: EventCursor?) -> Response {
        Response.json { w in
            w.beginObject()
            w.key("events")
            w.beginArray()
            for e in events { w.raw(e.body) }
            w.endArray()
            w.field("next_cursor", next?.token)
            w.endObject()
        }
    }

    static func stats(_ grouping: StatsGrouping, _ buckets: [StatsBucket], total: Int64) -> Response {
        Response.json { w in
            w.beginObject()
            w.field("group_by", grouping.rawValue)
            w.field("total", total)
            w.key("buckets")
            w.beginArray()
            for b in buckets { w.beginObject(); w.field("key", b.key); w.field("count", b.count); w.endObject() }
            w.endArray()
            w.endObject()
        }
    }

    static func group(_ g: EnforcerGroup, token: TokenSecret? = nil, in w: inout JSONWriter) {
        w.beginObject()
        w.field("id", g.id)
        w.field("name", g.name)
        w.field("created_at", Timestamps.format(g.createdMs))
        w.field("enforcers", g.enforcers)
        w.field("functions", g.functions)
        if let token { w.field("token", token.text); w.field("token_id", token.id) }
        w.endObject()
    }

    static func token(_ t: TokenInfo, in w: inout JSONWriter) {
        w.beginObject()
        w.field("id", t.id)
        w.field("name", t.name)
        w.field("role", t.role.rawValue)
        w.field("group_id", t.groupID)
        if let functions = t.functions {
            w.key("functions")
            w.beginArray()
            for f in functions { scope(f, in: &w) }
            w.endArray()
        }
        w.field("created_at", Timestamps.format(t.createdMs))
        w.field("created_by", t.createdBy)
        w.field("revoked_at", t.revokedMs.map(Timestamps.format))
        w.endObject()
    }

    static func scope(_ f: FunctionScope, in w: inout JSONWriter) {
        w.beginObject()
        w.field("function_name", f.functionName)
        w.field("account_id", f.accountID)
        w.field("region", f.region)
        w.endObject()
    }

    static func fleet(_ functions: [FleetFunction], staleBeforeMs: Int64) -> Response {
        func status(_ lastSeen: Int64) -> String { lastSeen >= staleBeforeMs ? "active" : "stale" }
        func facts(_ i: EnforcerInstance, in w: inout JSONWriter) {
            var scanner = JSONScanner(Array((i.facts ?? "{}").utf8))
            let parsed = (try? scanner.document()) ?? .object([])
            for name in ["mechanisms", "controls", "not_enforced"] {
                if case .object(let members) = parsed, let m = members.first(where: { $0.key == name }) {
                    w.field(name, raw: String(decoding: Array((i.facts ?? "").utf8)[m.range], as: UTF8.self))
                } else {
                    w.field(name, nil as String?)
                }
            }
        }
        return Response.json { w in
            w.beginObject()
            w.key("enforcers")
            w.beginArray()
            for f in functions {
                let current = f.current
                w.beginObject()
                w.field("function_name", f.functionName)
                w.field("account_id", f.accountID)
                w.field("region", f.region)
                w.field("group_id", current.groupID)
                w.field("version", current.version)
                w.field("mode", current.mode)
                facts(current, in: &w)
                w.field("first_seen", Timestamps.format(f.firstSeenMs))
                w.field("last_seen", Timestamps.format(f.lastSeenMs))
                w.field("status", status(f.lastSeenMs))
                w.key("instances")
                w.beginArray()
                for i in f.instances {
                    w.beginObject()
                    w.field("instance_id", i.instanceID)
                    w.field("version", i.version)
                    w.field("mode", i.mode)
                    facts(i, in: &w)
                    w.field("started_at", i.startedMs.map(Timestamps.format))
                    w.field("first_seen", Timestamps.format(i.firstSeenMs))
                    w.field("last_seen", Timestamps.format(i.lastSeenMs))
                    w.field("status", status(i.lastSeenMs))
                    w.field("events", i.events)
                    w.endObject()
                }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
    }

    static func audit(_ entries: [ServerStore.AuditEntry], limit: Int) -> Response {
        Response.json { w in
            w.beginObject()
            w.key("entries")
            w.beginArray()
            for e in entries {
                w.beginObject()
                w.field("id", e.id)
                w.field("time", Timestamps.format(e.timeMs))
                w.field("actor", e.actor)
                w.field("action", e.action)
                w.field("target", e.target)
                w.field("detail", e.detail)
                w.endObject()
            }
            w.endArray()
            w.field("next_before", entries.count == limit ? entries.last?.id : nil)
            w.endObject()
        }
    }
}
