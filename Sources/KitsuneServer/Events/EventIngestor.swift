/// What a batch got: stored, already stored (a retry), and the events refused with why.
public struct IngestResult: Sendable, Equatable {
    public var accepted: Int
    public var duplicates: Int
    public var rejected: [EventProblem]
}

/// Takes a batch posted by an enforcer: parses it, checks each event against the token's scope,
/// stores the good ones durably (group commit) and says what happened to each.
public struct EventIngestor: Sendable {
    public let store: ServerStore
    public let queue: IngestQueue
    public let parser: EventBatchParser

    public init(store: ServerStore, limits: IngestLimits = IngestLimits(), metrics: ServerMetrics? = nil) {
        self.store = store
        // One commit covers many batches (up to 100 statements, about 10 000 events).
        queue = IngestQueue(database: store.database, maxConcurrentCommits: store.database.dialect == .postgres ? 4 : 1, metrics: metrics)
        parser = EventBatchParser(limits: limits)
    }

    /// Ingests `body` as `principal` (a group token). Throws `EventProblem` (index -1) for a body that
    /// is not a batch at all, `StoreError` when the store cannot take it now.
    public func ingest(_ body: [UInt8], as principal: Principal, receivedMs: Int64 = Timestamps.nowMs()) async throws -> IngestResult {
        guard let groupID = principal.groupID else { throw EventProblem(index: -1, field: "token", reason: "only an enforcer group's token may post events") }
        let parsed = try parser.parse(body, groupID: groupID, receivedMs: receivedMs)
        var problems = parsed.problems
        var events: [IncomingEvent] = []
        var seen = Set<String>(minimumCapacity: parsed.events.count)
        events.reserveCapacity(parsed.events.count)
        var inBatchDuplicates = 0
        for (index, var event) in parsed.events {
            if let scopes = principal.functions {
                guard let scope = Self.scope(of: event, in: scopes) else {
                    problems.append(EventProblem(index: index, field: "function_name", reason: "outside this token's functions"))
                    continue
                }
                event.accountID = event.accountID ?? scope.accountID
                event.region = event.region ?? scope.region
            }
            guard seen.insert(event.dedupKey).inserted else { inBatchDuplicates += 1; continue }
            events.append(event)
        }
        problems.sort { $0.index < $1.index }
        guard !events.isEmpty else { return IngestResult(accepted: 0, duplicates: inBatchDuplicates, rejected: problems) }
        let (statements, insertCount) = store.ingestStatements(events, groupID: groupID, receivedMs: receivedMs)
        let inserted = try await queue.submit(statements, insertCount: insertCount)
        return IngestResult(accepted: inserted, duplicates: events.count - inserted + inBatchDuplicates, rejected: problems)
    }

    /// The scope entry `event` falls in: same function name, and the same account and region where
    /// both say one.
    static func scope(of event: IncomingEvent, in scopes: [FunctionScope]) -> FunctionScope? {
        scopes.first { scope in
            scope.functionName == event.functionName
                && (scope.accountID == nil || event.accountID == nil || scope.accountID == event.accountID)
                && (scope.region == nil || event.region == nil || scope.region == event.region)
        }
    }
}
