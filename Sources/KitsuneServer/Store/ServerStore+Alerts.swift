import Foundation

/// Alert destinations, the outbox of alerts, and the evaluator's cursor over the events table.
extension ServerStore {
    // MARK: Destinations

    private static let destinationColumns = "id, name, kind, target, secret, match, enabled, created_ms, updated_ms"

    private static func destination(_ r: SQLRow) -> AlertDestination? {
        guard let kind = AlertDestinationKind(rawValue: r.text(2) ?? "") else { return nil }
        return AlertDestination(id: r.text(0) ?? "", name: r.text(1) ?? "", kind: kind, target: r.text(3) ?? "", secret: r.text(4),
                                match: AlertMatch.stored(r.text(5) ?? "{}"), enabled: r.int(6) != 0, createdMs: r.int(7), updatedMs: r.int(8))
    }

    private static func matchJSON(_ m: AlertMatch) -> String {
        var w = JSONWriter()
        m.write(into: &w)
        return w.text
    }

    /// Creates a destination (the name is unique: a clash is a conflict).
    public func createDestination(name: String, kind: AlertDestinationKind, target: String, secret: String?, match: AlertMatch,
                                  enabled: Bool, actor: String) async throws(StoreError) -> AlertDestination {
        let now = Timestamps.nowMs()
        let d = AlertDestination(id: "dst_" + randomHex(bytes: 8), name: name, kind: kind, target: target, secret: secret, match: match,
                                 enabled: enabled, createdMs: now, updatedMs: now)
        _ = try await database.transaction([
            SQLStatement("INSERT INTO alert_destinations (\(Self.destinationColumns), created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [.text(d.id), .text(name), .text(kind.rawValue), .text(target), secret.map(SQLValue.text) ?? .null,
                          .text(Self.matchJSON(match)), .int(enabled ? 1 : 0), .int(now), .int(now), .text(actor)]),
            audit(actor, "alert-destination.create", d.id, "\(kind.rawValue) destination \(name) created"),
        ])
        return d
    }

    public func listDestinations() async throws(StoreError) -> [AlertDestination] {
        try await database.query(SQLStatement("SELECT \(Self.destinationColumns) FROM alert_destinations ORDER BY name")).compactMap(Self.destination)
    }

    public func destination(_ id: String) async throws(StoreError) -> AlertDestination? {
        try await database.first(SQLStatement("SELECT \(Self.destinationColumns) FROM alert_destinations WHERE id = ?", [.text(id)])).flatMap(Self.destination)
    }

    /// Replaces a destination's settings (its id and kind stay).
    public func updateDestination(_ d: AlertDestination, actor: String) async throws(StoreError) -> Bool {
        let rows = try await database.transaction([
            SQLStatement("UPDATE alert_destinations SET name = ?, target = ?, secret = ?, match = ?, enabled = ?, updated_ms = ? WHERE id = ? RETURNING id",
                         [.text(d.name), .text(d.target), d.secret.map(SQLValue.text) ?? .null, .text(Self.matchJSON(d.match)),
                          .int(d.enabled ? 1 : 0), .int(Timestamps.nowMs()), .text(d.id)]),
            audit(actor, "alert-destination.update", d.id, "destination \(d.name) updated"),
        ])
        return !rows[0].isEmpty
    }

    /// Deletes a destination and its alerts.
    public func deleteDestination(_ id: String, actor: String) async throws(StoreError) -> Bool {
        let rows = try await database.transaction([
            SQLStatement("DELETE FROM alerts WHERE destination_id = ?", [.text(id)]),
            SQLStatement("DELETE FROM alert_destinations WHERE id = ? RETURNING id", [.text(id)]),
            audit(actor, "alert-destination.delete", id, "destination deleted"),
        ])
        return !rows[1].isEmpty
    }

    // MARK: Alerts (the outbox)

    private static let alertColumns = """
        id, destination_id, throttle_key, group_key, follow_up, window_end_ms, first_event_id, last_event_id, count, severity, \
        action, reason, function_name, account_id, region, detail, created_ms, state, attempts, next_attempt_ms, last_error, delivered_ms
        """

    private static func alert(_ r: SQLRow) -> Alert {
        var scanner = JSONScanner(Array((r.text(15) ?? "{}").utf8), maxDepth: 4)
        let detail = (try? scanner.document()) ?? .null
        var argv: [String] = []
        if case .array(let items)? = detail["argv"] { argv = items.compactMap(\.string) }
        func int(_ k: String) -> Int64 { if case .number(let n)? = detail[k] { return Int64(n) ?? 0 }; return 0 }
        let event = AlertEvent(id: r.int(6), receivedMs: int("received_ms"), timeMs: int("time_ms"), action: r.text(10) ?? "", reason: r.text(11),
                               mode: detail["mode"]?.string, functionName: r.text(12), accountID: r.text(13), region: r.text(14),
                               executable: detail["executable"]?.string, argv: argv)
        return Alert(id: r.text(0) ?? "", destinationID: r.text(1) ?? "", throttleKey: r.text(2) ?? "", groupKey: r.text(3) ?? "",
                     followUp: r.int(4) != 0, windowEndMs: r.int(5), firstEventID: r.int(6), lastEventID: r.int(7), count: r.int(8),
                     severity: r.text(9) ?? "", event: event, createdMs: r.int(16), state: AlertState(rawValue: r.text(17) ?? "") ?? .pending,
                     attempts: r.int(18), nextAttemptMs: r.int(19), lastError: r.text(20), deliveredMs: r[21].int)
    }

    /// Alerts newest first, optionally of one destination or state, before the alert created at `beforeMs`.
    public func alerts(destinationID: String? = nil, state: AlertState? = nil, limit: Int) async throws(StoreError) -> [Alert] {
        var sql = "SELECT \(Self.alertColumns) FROM alerts WHERE 1 = 1", binds: [SQLValue] = []
        if let destinationID { sql += " AND destination_id = ?"; binds.append(.text(destinationID)) }
        if let state { sql += " AND state = ?"; binds.append(.text(state.rawValue)) }
        sql += " ORDER BY created_ms DESC, id DESC LIMIT ?"
        binds.append(.int(Int64(limit)))
        return try await database.query(SQLStatement(sql, binds)).map(Self.alert)
    }

    public func alert(_ id: String) async throws(StoreError) -> Alert? {
        try await database.first(SQLStatement("SELECT \(Self.alertColumns) FROM alerts WHERE id = ?", [.text(id)])).map(Self.alert)
    }

    /// Alerts whose throttling window ends after `afterMs`.
    public func openAlerts(windowEndAfter afterMs: Int64) async throws(StoreError) -> [Alert] {
        try await database.query(SQLStatement("SELECT \(Self.alertColumns) FROM alerts WHERE window_end_ms > ?", [.int(afterMs)])).map(Self.alert)
    }

    /// Pending alerts due at `nowMs`, oldest due first.
    public func dueAlerts(nowMs: Int64, limit: Int) async throws(StoreError) -> [Alert] {
        try await database.query(SQLStatement("SELECT \(Self.alertColumns) FROM alerts WHERE state = 'pending' AND next_attempt_ms <= ? AND destination_id IN (SELECT id FROM alert_destinations WHERE enabled = 1) ORDER BY next_attempt_ms, id LIMIT ?",
                                              [.int(nowMs), .int(Int64(limit))])).map(Self.alert)
    }

    /// Records one delivery attempt: delivered, retried after back-off, or dead after `maxAttempts`
    /// (or at once when retrying cannot help).
    public func recordDelivery(_ alertID: String, result: DeliveryResult, settings: AlertSettings, nowMs: Int64 = Timestamps.nowMs()) async throws(StoreError) -> AlertState {
        guard let current = try await database.first(SQLStatement("SELECT attempts FROM alerts WHERE id = ?", [.text(alertID)])) else { return .dead }
        let attempts = current.int(0) + 1
        let state: AlertState = result.delivered ? .delivered : (!result.retryable || attempts >= Int64(settings.maxAttempts) ? .dead : .pending)
        let next = state == .pending ? nowMs + settings.retryDelayMs(afterAttempt: attempts) : nowMs
        _ = try await database.transaction([SQLStatement(
            "UPDATE alerts SET state = ?, attempts = ?, next_attempt_ms = ?, last_error = ?, delivered_ms = ? WHERE id = ?",
            [.text(state.rawValue), .int(attempts), .int(next), result.delivered ? .null : .text(String(result.detail.prefix(500))),
             result.delivered ? .int(nowMs) : .null, .text(alertID)])])
        return state
    }

    /// Puts a dead alert back in the queue (after the destination was fixed).
    public func retryAlert(_ id: String, actor: String) async throws(StoreError) -> Bool {
        let rows = try await database.transaction([
            SQLStatement("UPDATE alerts SET state = 'pending', attempts = 0, next_attempt_ms = ? WHERE id = ? AND state = 'dead' RETURNING id",
                         [.int(Timestamps.nowMs()), .text(id)]),
            audit(actor, "alert.retry", id, "dead alert queued again"),
        ])
        return !rows[0].isEmpty
    }

    // MARK: Evaluation

    /// The evaluator's cursor: the event id it started after (alerting covers events that arrive once
    /// it runs, not the history) and the newest id evaluated. Nil before the first pass.
    public func alertCursor() async throws(StoreError) -> (start: Int64, last: Int64)? {
        let rows = try await database.query(SQLStatement("SELECT name, last_event_id FROM alert_cursor WHERE name IN ('start', 'events')"))
        guard let start = rows.first(where: { $0.text(0) == "start" })?.int(1), let last = rows.first(where: { $0.text(0) == "events" })?.int(1) else { return nil }
        return (start, last)
    }

    /// Starts the cursor after `eventID` (a no-op when it exists already).
    public func startAlertCursor(after eventID: Int64) async throws(StoreError) {
        _ = try await database.transaction([
            SQLStatement("INSERT INTO alert_cursor (name, last_event_id) VALUES ('start', ?) ON CONFLICT (name) DO NOTHING", [.int(eventID)]),
            SQLStatement("INSERT INTO alert_cursor (name, last_event_id) VALUES ('events', ?) ON CONFLICT (name) DO NOTHING", [.int(eventID)]),
        ])
    }

    /// The newest event id (0 with no events).
    public func newestEventID() async throws(StoreError) -> Int64 {
        try await database.first(SQLStatement("SELECT COALESCE(MAX(id), 0) FROM events"))?.int(0) ?? 0
    }

    /// Events with an id above `fromID` not evaluated yet, in id order.
    public func eventsToEvaluate(fromID: Int64, limit: Int) async throws(StoreError) -> [AlertEvent] {
        let rows = try await database.query(SQLStatement("""
            SELECT e.id, e.received_ms, e.time_ms, e.action, e.reason, e.mode, e.function_name, e.account_id, e.region, e.executable, e.body
            FROM events e WHERE e.id > ? AND NOT EXISTS (SELECT 1 FROM alert_seen_events s WHERE s.event_id = e.id)
            ORDER BY e.id LIMIT ?
            """, [.int(fromID), .int(Int64(limit))]))
        return rows.map { r in
            AlertEvent(id: r.int(0), receivedMs: r.int(1), timeMs: r.int(2), action: r.text(3) ?? "", reason: r.text(4), mode: r.text(5),
                       functionName: r.text(6), accountID: r.text(7), region: r.text(8), executable: r.text(9),
                       argv: AlertEvent.argv(fromBody: r.text(10) ?? ""))
        }
    }

    /// Commits one evaluation pass in one transaction: marks `events` evaluated (a mark that exists
    /// already fails the whole pass: nothing is alerted twice), applies the outbox changes, moves the
    /// cursor to `cursor` and forgets marks below `forgetBelow`.
    public func commitEvaluation(events: [Int64], changes: [AlertThrottler.Change], cursor: Int64, forgetBelow: Int64) async throws(StoreError) {
        var statements: [SQLStatement] = []
        for chunk in stride(from: 0, to: events.count, by: 200) {
            let ids = events[chunk..<min(chunk + 200, events.count)]
            statements.append(SQLStatement("INSERT INTO alert_seen_events (event_id) VALUES " + Array(repeating: "(?)", count: ids.count).joined(separator: ", "),
                                           ids.map { .int($0) }))
        }
        for change in changes {
            switch change {
            case .insert(let a):
                statements.append(SQLStatement("INSERT INTO alerts (\(Self.alertColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                    .text(a.id), .text(a.destinationID), .text(a.throttleKey), .text(a.groupKey), .int(a.followUp ? 1 : 0), .int(a.windowEndMs),
                    .int(a.firstEventID), .int(a.lastEventID), .int(a.count), .text(a.severity), .text(String(a.event.action.prefix(64))),
                    a.event.reason.map { .text(String($0.prefix(256))) } ?? .null, a.event.functionName.map { .text(String($0.prefix(256))) } ?? .null,
                    a.event.accountID.map { .text(String($0.prefix(64))) } ?? .null, a.event.region.map { .text(String($0.prefix(64))) } ?? .null,
                    .text(a.detailJSON), .int(a.createdMs), .text(a.state.rawValue), .int(a.attempts), .int(a.nextAttemptMs), .null, .null]))
            case .add(let id, let by, let last):
                statements.append(SQLStatement("UPDATE alerts SET count = count + ?, last_event_id = CASE WHEN last_event_id > ? THEN last_event_id ELSE ? END WHERE id = ?",
                                               [.int(by), .int(last), .int(last), .text(id)]))
            }
        }
        statements.append(SQLStatement("""
            INSERT INTO alert_cursor (name, last_event_id) VALUES ('events', ?)
            ON CONFLICT (name) DO UPDATE SET last_event_id = CASE WHEN alert_cursor.last_event_id > excluded.last_event_id THEN alert_cursor.last_event_id ELSE excluded.last_event_id END
            """, [.int(cursor)]))
        statements.append(SQLStatement("DELETE FROM alert_seen_events WHERE event_id < ?", [.int(forgetBelow)]))
        _ = try await database.transaction(statements)
    }
}
