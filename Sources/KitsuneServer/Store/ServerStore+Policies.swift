import Foundation
import KitsunePolicy

/// A runtime policy at its current version.
public struct StoredPolicy: Sendable, Equatable {
    public var id: String
    public var version: Int64
    public var policy: RuntimePolicy
    public var createdMs: Int64
    public var updatedMs: Int64
    public var updatedBy: String
}

/// One immutable version of a policy.
public struct PolicyVersion: Sendable, Equatable {
    public var policyID: String
    public var version: Int64
    public var document: String
    public var timeMs: Int64
    public var actor: String
    /// `create`, `update`, `restore N`, `delete`.
    public var change: String
}

extension ServerStore {
    private static let policyColumns = "p.id, p.version, v.document, p.created_ms, p.updated_ms, p.updated_by"

    private func storedPolicy(_ row: SQLRow) -> StoredPolicy? {
        // Documents were validated on the way in; one that no longer parses (a newer server's field) is skipped, not fatal.
        guard let policy = try? RuntimePolicy(yaml: row.text(2) ?? "") else { return nil }
        return StoredPolicy(id: row.text(0) ?? "", version: row.int(1), policy: policy, createdMs: row.int(3), updatedMs: row.int(4), updatedBy: row.text(5) ?? "")
    }

    /// Every live policy at its current version, by name.
    public func policies() async throws(StoreError) -> [StoredPolicy] {
        try await database.query(SQLStatement("""
            SELECT \(Self.policyColumns) FROM policies p JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.version
            WHERE p.deleted_ms IS NULL ORDER BY p.name
            """)).compactMap(storedPolicy)
    }

    /// The live policy `id` (or named `id`).
    public func policy(_ id: String) async throws(StoreError) -> StoredPolicy? {
        try await database.first(SQLStatement("""
            SELECT \(Self.policyColumns) FROM policies p JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.version
            WHERE (p.id = ? OR p.name = ?) AND p.deleted_ms IS NULL
            """, [.text(id), .text(id)])).flatMap(storedPolicy)
    }

    /// Saves a new policy (version 1), or a new version of a deleted one of the same name. 409 when a
    /// live policy has the name.
    public func createPolicy(_ policy: RuntimePolicy, actor: String) async throws(StoreError) -> StoredPolicy {
        let now = Timestamps.nowMs()
        if let old = try await database.first(SQLStatement("SELECT id, version, deleted_ms FROM policies WHERE name = ?", [.text(policy.name)])) {
            guard old[2].int != nil, let id = old.text(0) else { throw .conflict("a policy named \(policy.name) exists") }
            return try await saveVersion(id: id, expected: old.int(1), policy, change: "create", actor: actor, now: now, revive: true)
        }
        let id = "pol_" + randomHex(bytes: 8)
        _ = try await database.transaction([
            SQLStatement("INSERT INTO policies (id, name, version, created_ms, updated_ms, updated_by) VALUES (?, ?, 1, ?, ?, ?)",
                         [.text(id), .text(policy.name), .int(now), .int(now), .text(actor)]),
            SQLStatement("INSERT INTO policy_versions (policy_id, version, document, time_ms, actor, change) VALUES (?, 1, ?, ?, ?, 'create')",
                         [.text(id), .text(policy.document), .int(now), .text(actor)]),
            audit(actor, "policy.create", id, "policy \(policy.name) v1 created (\(policy.mode.rawValue))"),
        ])
        return StoredPolicy(id: id, version: 1, policy: policy, createdMs: now, updatedMs: now, updatedBy: actor)
    }

    /// Saves `policy` as the next version of `id`. With `expectedVersion`, refuses (409) when someone
    /// saved in between. Nil when there is no such live policy.
    public func updatePolicy(_ id: String, _ policy: RuntimePolicy, expectedVersion: Int64? = nil, change: String = "update",
                             actor: String) async throws(StoreError) -> StoredPolicy? {
        guard let current = try await self.policy(id) else { return nil }
        if let expectedVersion, expectedVersion != current.version {
            throw .conflict("policy \(current.policy.name) is at version \(current.version), not \(expectedVersion): reload and retry")
        }
        if policy.name != current.policy.name, try await database.first(SQLStatement("SELECT id FROM policies WHERE name = ? AND id <> ?", [.text(policy.name), .text(current.id)])) != nil {
            throw .conflict("a policy named \(policy.name) exists")
        }
        return try await saveVersion(id: current.id, expected: current.version, policy, change: change, actor: actor, now: Timestamps.nowMs(), revive: false)
    }

    private func saveVersion(id: String, expected: Int64, _ policy: RuntimePolicy, change: String, actor: String, now: Int64, revive: Bool) async throws(StoreError) -> StoredPolicy {
        let next = expected + 1
        // The version's primary key makes a concurrent save of the same version fail as a whole.
        _ = try await database.transaction([
            SQLStatement("INSERT INTO policy_versions (policy_id, version, document, time_ms, actor, change) VALUES (?, ?, ?, ?, ?, ?)",
                         [.text(id), .int(next), .text(policy.document), .int(now), .text(actor), .text(change)]),
            SQLStatement("UPDATE policies SET version = ?, name = ?, updated_ms = ?, updated_by = ?, deleted_ms = NULL WHERE id = ? AND version = ?",
                         [.int(next), .text(policy.name), .int(now), .text(actor), .text(id), .int(expected)]),
            audit(actor, "policy.\(revive ? "create" : "update")", id, "policy \(policy.name) v\(next) saved (\(change), \(policy.mode.rawValue))"),
        ])
        let created = try await database.first(SQLStatement("SELECT created_ms FROM policies WHERE id = ?", [.text(id)]))?.int(0) ?? now
        return StoredPolicy(id: id, version: next, policy: policy, createdMs: created, updatedMs: now, updatedBy: actor)
    }

    /// Deletes a policy (its versions stay, and a policy of that name may be created again).
    public func deletePolicy(_ id: String, actor: String) async throws(StoreError) -> Bool {
        guard let current = try await policy(id) else { return false }
        let now = Timestamps.nowMs()
        _ = try await database.transaction([
            SQLStatement("UPDATE policies SET deleted_ms = ?, updated_ms = ?, updated_by = ? WHERE id = ?", [.int(now), .int(now), .text(actor), .text(current.id)]),
            audit(actor, "policy.delete", current.id, "policy \(current.policy.name) deleted at v\(current.version)"),
        ])
        return true
    }

    /// Every version of policy `id` (deleted or not), newest first.
    public func policyVersions(_ id: String) async throws(StoreError) -> [PolicyVersion] {
        try await database.query(SQLStatement("""
            SELECT v.policy_id, v.version, v.document, v.time_ms, v.actor, v.change FROM policy_versions v JOIN policies p ON p.id = v.policy_id
            WHERE p.id = ? OR p.name = ? ORDER BY v.version DESC
            """, [.text(id), .text(id)])).map {
            PolicyVersion(policyID: $0.text(0) ?? "", version: $0.int(1), document: $0.text(2) ?? "", timeMs: $0.int(3), actor: $0.text(4) ?? "", change: $0.text(5) ?? "")
        }
    }

    /// The document of version `version` of policy `id`.
    public func policyDocument(_ id: String, version: Int64) async throws(StoreError) -> String? {
        try await database.first(SQLStatement("SELECT document FROM policy_versions WHERE policy_id = ? AND version = ?", [.text(id), .int(version)]))?.text(0)
    }
}
