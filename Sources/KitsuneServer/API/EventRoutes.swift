import Foundation
import Hummingbird

/// `/api/v1/events`: ingest from enforcers, list, export and stats for people.
struct EventRoutes {
    let ingestor: EventIngestor
    let metrics: ServerMetrics

    func register(on api: RouterGroup<APIContext>) {
        api.post("events") { request, context in try await ingest(request, context) }
        api.get("events") { request, context in try await list(request, context) }
        api.get("events/export") { request, context in try await export(request, context) }
        api.get("events/stats") { request, context in try await stats(request, context) }
    }

    private var store: ServerStore { ingestor.store }

    func ingest(_ request: Request, _ context: APIContext) async throws -> Response {
        guard let principal = context.principal, principal.role == .ingest else {
            throw APIError(.forbidden, "only an enforcer group's token may post events")
        }
        let started = Date()
        var request = request
        let body = try await request.collectBody(upTo: ingestor.parser.limits.maxBodyBytes)
        let result = try await ingestor.ingest(Array(body.readableBytesView), as: principal)
        metrics.add("kitsune_events_accepted_total", result.accepted)
        metrics.add("kitsune_events_duplicate_total", result.duplicates)
        metrics.add("kitsune_events_rejected_total", result.rejected.count)
        metrics.observeIngest(seconds: Date().timeIntervalSince(started))
        return APIRender.ingest(result)
    }

    func list(_ request: Request, _ context: APIContext) async throws -> Response {
        _ = try context.require(.viewer)
        let (query, filter) = try Self.filter(request, extra: ["limit", "cursor"])
        let limit = try Self.limit(query)
        let cursor = try query.single("cursor").map { v throws(ParameterError) in try EventCursor(token: v) }
        let page = try await store.events(filter, limit: limit, after: cursor)
        return APIRender.events(page.events, next: page.next)
    }

    func export(_ request: Request, _ context: APIContext) async throws -> Response {
        _ = try context.require(.viewer)
        let (query, filter) = try Self.filter(request, extra: ["format"])
        guard let format = EventExportFormat(rawValue: try query.single("format") ?? "jsonl") else {
            throw APIError(.badRequest, "must be jsonl, csv or ocsf", field: "format")
        }
        // Fail before the 200 if the store is down; later pages stream, newest first.
        let first = try await store.events(filter, limit: 1000, after: nil)
        let store = self.store
        let body = ResponseBody { writer in
            var page = first
            if let header = format.header { try await writer.write(ByteBuffer(string: header)) }
            while true {
                try await writer.write(ByteBuffer(string: page.events.map { format.line($0) }.joined()))
                guard let next = page.next else { break }
                page = try await store.events(filter, limit: 1000, after: next)
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: format.contentType]
        headers[.contentDisposition] = "attachment; filename=\"kitsune-events.\(format.fileExtension)\""
        return Response(status: .ok, headers: headers, body: body)
    }

    func stats(_ request: Request, _ context: APIContext) async throws -> Response {
        _ = try context.require(.viewer)
        let (query, filter) = try Self.filter(request, extra: ["group_by", "limit"])
        guard let grouping = StatsGrouping(rawValue: try query.single("group_by") ?? "") else {
            throw APIError(.badRequest, "must be one of \(StatsGrouping.allCases.map(\.rawValue).joined(separator: ", "))", field: "group_by")
        }
        let limit = try Self.limit(query)
        let result = try await store.stats(filter, by: grouping, limit: limit)
        return APIRender.stats(grouping, result.buckets, total: result.total)
    }

    /// The shared filters of a request, refusing parameters the route does not take.
    static func filter(_ request: Request, extra: Set<String>) throws -> (QueryParameters, EventFilter) {
        let query = try QueryParameters(request.uri.query)
        try query.only(EventFilter.parameters.union(extra))
        return (query, try EventFilter(query, nowMs: Timestamps.nowMs()))
    }

    /// `limit`: 1 to 1000, default 100.
    static func limit(_ query: QueryParameters) throws -> Int {
        guard let text = try query.single("limit") else { return 100 }
        guard let n = Int(text), (1...1000).contains(n) else { throw APIError(.badRequest, "must be a whole number from 1 to 1000", field: "limit") }
        return n
    }
}
