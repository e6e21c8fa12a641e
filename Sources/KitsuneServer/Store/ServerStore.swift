import Foundation

/// The control plane's data: enforcer groups and tokens, events, the fleet, leases and the audit log,
/// over either database. Every method is one short transaction or query; nothing is cached but
/// PostgreSQL's search stop codes (`PostgresSearchPlan`, safe to hold stale), so any number of
/// replicas can share one PostgreSQL.
public struct ServerStore: Sendable {
    public let database: any SQLDatabase
    /// PostgreSQL: the free-text stop codes last read (shared by this store's copies).
    public let searchStopCodes: SearchStopCodes
    var dialect: SQLDialect { database.dialect }

    public init(database: any SQLDatabase) {
        self.database = database
        self.searchStopCodes = SearchStopCodes()
    }

    /// Opens the store the command line names (SQLite under `data`, or PostgreSQL at `databaseURL`)
    /// and brings its schema up to date.
    public static func open(data: String, databaseURL: String?) async throws(StoreError) -> ServerStore {
        let database: any SQLDatabase
        if let databaseURL { database = try PostgresDatabase(url: databaseURL) } else { database = try SQLiteDatabase(directory: data) }
        let store = ServerStore(database: database)
        try await store.migrate()
        return store
    }

    /// Applies the bundled migrations.
    public func migrate() async throws(StoreError) {
        try await Migrations.apply(to: database)
    }

    /// Whether the database answers (`/readyz`).
    public func ping() async -> Bool {
        (try? await database.query(SQLStatement("SELECT 1"))) != nil
    }

    // MARK: Audit log

    /// One entry of the audit log.
    public struct AuditEntry: Sendable, Equatable {
        public var id: Int64
        public var timeMs: Int64
        public var actor: String
        public var action: String
        public var target: String
        public var detail: String
    }

    /// The statement that records `action` on `target` by `actor`.
    func audit(_ actor: String, _ action: String, _ target: String, _ detail: String = "") -> SQLStatement {
        SQLStatement("INSERT INTO audit_log (time_ms, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                     [.int(Timestamps.nowMs()), .text(actor), .text(action), .text(target), .text(detail)])
    }

    /// The newest audit entries first, before `beforeID` when given.
    public func auditLog(limit: Int, beforeID: Int64? = nil) async throws(StoreError) -> [AuditEntry] {
        let rows = try await database.query(SQLStatement(
            "SELECT id, time_ms, actor, action, target, detail FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
            [.int(beforeID ?? Int64.max), .int(Int64(limit))]))
        return rows.map { AuditEntry(id: $0.int(0), timeMs: $0.int(1), actor: $0.text(2) ?? "", action: $0.text(3) ?? "",
                                     target: $0.text(4) ?? "", detail: $0.text(5) ?? "") }
    }

    // MARK: Leases

    /// Takes or renews the lease `name` for `holder` until `now + ttl`; true when `holder` has it. A
    /// lease whose holder stopped renewing it expires and passes to the next caller.
    public func acquireLease(_ name: String, holder: String, ttlMs: Int64, nowMs: Int64 = Timestamps.nowMs()) async throws(StoreError) -> Bool {
        let rows = try await database.transaction([SQLStatement(
            """
            INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
            WHERE leases.holder = excluded.holder OR leases.expires_ms < ?
            RETURNING holder
            """, [.text(name), .text(holder), .int(nowMs + ttlMs), .int(nowMs)])])
        return rows.first?.first?.text(0) == holder
    }

    /// Gives the lease up (a clean shutdown), so another replica takes over at once.
    public func releaseLease(_ name: String, holder: String) async throws(StoreError) {
        _ = try await database.transaction([SQLStatement("DELETE FROM leases WHERE name = ? AND holder = ?", [.text(name), .text(holder)])])
    }

    /// Gives the lease up on the way out (a shutdown, the end of a pass), so another replica takes
    /// over at once: in a task of its own, so the caller's cancellation does not skip it, and for at
    /// most `within`. When the store is down the call is abandoned and the lease expires after its
    /// ttl: a server told to stop during an outage stops instead of waiting for the database.
    public func releaseLeaseOnExit(_ name: String, holder: String, within: Duration = .seconds(1)) async {
        let store = self
        await Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await store.releaseLease(name, holder: holder) }
                group.addTask { try? await Task.sleep(for: within) }
                await group.next()
                group.cancelAll()
            }
        }.value
    }

    // MARK: Retention

    /// Refreshes PostgreSQL's planner statistics of the events table (`ANALYZE events`) once at least
    /// `minimumChanges` rows, and a tenth of the table, have changed since its last analysis; true when
    /// it did. Autovacuum does the same on its own schedule, which after a burst of ingest lagged by
    /// minutes (1.15M events stored, never analyzed): meanwhile the planner, without statistics,
    /// took bitmap scans and a sort over a walk of the time index, 579 ms for a list by function and
    /// reason and 1.26 s for a common `q`, against 1.9 and 0.2 ms once analyzed. Nothing on SQLite,
    /// whose plans here do not depend on statistics.
    public func refreshPlannerStatistics(minimumChanges: Int64 = 10_000) async throws(StoreError) -> Bool {
        guard dialect == .postgres,
              let row = try await database.first(SQLStatement(
                "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables WHERE relid = 'events'::regclass")),
              row.int(0) >= max(minimumChanges, row.int(1) / 10) else { return false }
        _ = try await database.query(SQLStatement("ANALYZE events"))
        return true
    }

    /// Deletes up to `limit` of the oldest events older than `cutoffMs` (one short transaction, so
    /// ingest never waits long), and enforcer instances not seen since then. Returns events deleted.
    public func pruneEvents(olderThan cutoffMs: Int64, limit: Int) async throws(StoreError) -> Int {
        let cutoffHour = StatsPlan.floor(cutoffMs, StatsPlan.hourMs)
        let result = try await database.transaction([
            SQLStatement("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time_ms < ? ORDER BY time_ms LIMIT ?) RETURNING id",
                         [.int(cutoffMs), .int(Int64(limit))]),
            SQLStatement("DELETE FROM enforcer_instances WHERE last_seen_ms < ?", [.int(cutoffMs)]),
            // The roll-ups of hours wholly before the cutoff go once none of their events is left
            // (their counts are then zero, spread over shards on PostgreSQL). The oldest event is
            // read from the end of the time index: as `NOT EXISTS`, PostgreSQL without statistics
            // yet scanned the whole table for it.
            SQLStatement("DELETE FROM event_counts WHERE bucket < ? AND COALESCE((SELECT MIN(time_ms) FROM events), ?) >= ?",
                         [.int(cutoffHour), .int(cutoffHour * StatsPlan.hourMs), .int(cutoffHour * StatsPlan.hourMs)]),
            // Alerts that are done with (delivered, or dead and not retried) go with their events.
            SQLStatement("DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE state IN ('delivered', 'dead') AND created_ms < ? LIMIT ?)",
                         [.int(cutoffMs), .int(Int64(limit))]),
        ])
        return result[0].count
    }
}
