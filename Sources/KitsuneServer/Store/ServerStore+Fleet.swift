import Foundation

/// One running (or recently running) enforcer: one Lambda cold start, one container.
public struct EnforcerInstance: Sendable, Equatable {
    public var instanceID: String?
    public var groupID: String
    public var functionName: String
    public var accountID: String
    public var region: String
    public var version: String?
    public var mode: String?
    /// The `started` event's `mechanisms`, `controls`, `not_enforced`, `kernel`…, as JSON text.
    public var facts: String?
    public var startedMs: Int64?
    public var firstSeenMs: Int64
    public var lastSeenMs: Int64
    public var events: Int64
}

/// The fleet, one entry per function (name, account, region) with its instances, newest first.
public struct FleetFunction: Sendable, Equatable {
    public var functionName: String
    public var accountID: String
    public var region: String
    public var instances: [EnforcerInstance]

    /// The newest instance that said what it enforces (its `started` event), else the newest.
    public var current: EnforcerInstance { instances.first { $0.facts != nil } ?? instances[0] }
    public var firstSeenMs: Int64 { instances.map(\.firstSeenMs).min() ?? 0 }
    public var lastSeenMs: Int64 { instances.map(\.lastSeenMs).max() ?? 0 }
}

extension ServerStore {
    /// The fleet: instances seen since `sinceMs`, grouped by function.
    public func fleet(sinceMs: Int64, function: String? = nil) async throws(StoreError) -> [FleetFunction] {
        var binds: [SQLValue] = [.int(sinceMs)]
        var condition = "last_seen_ms >= ?"
        if let function { condition += " AND function_name = ?"; binds.append(.text(function)) }
        let rows = try await database.query(SQLStatement("""
            SELECT instance_id, group_id, function_name, account_id, region, version, mode, facts, started_ms, first_seen_ms, last_seen_ms, events
            FROM enforcer_instances WHERE \(condition)
            ORDER BY function_name, account_id, region, last_seen_ms DESC LIMIT 50000
            """, binds))
        var functions: [FleetFunction] = []
        for row in rows {
            let instance = EnforcerInstance(
                instanceID: row.text(0), groupID: row.text(1) ?? "", functionName: row.text(2) ?? "", accountID: row.text(3) ?? "",
                region: row.text(4) ?? "", version: row.text(5), mode: row.text(6), facts: row.text(7), startedMs: row[8].int,
                firstSeenMs: row.int(9), lastSeenMs: row.int(10), events: row.int(11))
            if let last = functions.last, last.functionName == instance.functionName, last.accountID == instance.accountID, last.region == instance.region {
                functions[functions.count - 1].instances.append(instance)
            } else {
                functions.append(FleetFunction(functionName: instance.functionName, accountID: instance.accountID, region: instance.region, instances: [instance]))
            }
        }
        return functions
    }
}
