import Foundation

/// An enforcer group: the functions that report with its token.
public struct EnforcerGroup: Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdMs: Int64
    /// Enforcer instances and distinct functions seen reporting with the group's tokens.
    public var enforcers: Int = 0
    public var functions: Int = 0
}

/// A token as listed: never its secret.
public struct TokenInfo: Sendable, Equatable {
    public var id: String
    public var role: Role
    public var name: String
    public var groupID: String?
    public var functions: [FunctionScope]?
    public var createdMs: Int64
    public var createdBy: String
    public var revokedMs: Int64?
}

extension ServerStore {
    /// A name as users give it: 1 to 128 characters, no control characters.
    static func checkName(_ name: String, field: String = "name") throws(ParameterError) {
        guard !name.isEmpty, name.count <= 128, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ParameterError(parameter: field, reason: "must be 1 to 128 characters, without control characters")
        }
    }

    // MARK: Enforcer groups

    /// Creates a group and its first token (returned once).
    public func createGroup(name: String, actor: String) async throws(StoreError) -> (EnforcerGroup, TokenSecret) {
        let group = EnforcerGroup(id: "grp_" + randomHex(bytes: 8), name: name, createdMs: Timestamps.nowMs())
        let token = TokenSecret.generate()
        _ = try await database.transaction([
            SQLStatement("INSERT INTO enforcer_groups (id, name, created_ms) VALUES (?, ?, ?)", [.text(group.id), .text(name), .int(group.createdMs)]),
            insertToken(token, role: .ingest, name: "group \(name)", groupID: group.id, functions: nil, actor: actor),
            audit(actor, "group.create", group.id, "enforcer group \(name) created"),
        ])
        return (group, token)
    }

    /// Every group, with how many enforcers and functions have reported in it.
    public func listGroups() async throws(StoreError) -> [EnforcerGroup] {
        try await database.query(SQLStatement("""
            SELECT g.id, g.name, g.created_ms,
                   (SELECT COUNT(*) FROM enforcer_instances i WHERE i.group_id = g.id),
                   (SELECT COUNT(*) FROM (SELECT DISTINCT function_name, account_id, region FROM enforcer_instances i WHERE i.group_id = g.id) f)
            FROM enforcer_groups g ORDER BY g.name
            """)).map { EnforcerGroup(id: $0.text(0) ?? "", name: $0.text(1) ?? "", createdMs: $0.int(2), enforcers: Int($0.int(3)), functions: Int($0.int(4))) }
    }

    /// The group `id`, if it exists.
    public func group(_ id: String) async throws(StoreError) -> EnforcerGroup? {
        try await listGroups().first { $0.id == id }
    }

    /// Deletes a group and revokes its tokens (its events stay, for the record). False if unknown.
    public func deleteGroup(_ id: String, actor: String) async throws(StoreError) -> Bool {
        let result = try await database.transaction([
            SQLStatement("UPDATE tokens SET revoked_ms = ? WHERE group_id = ? AND revoked_ms IS NULL", [.int(Timestamps.nowMs()), .text(id)]),
            SQLStatement("DELETE FROM enforcer_groups WHERE id = ? RETURNING id", [.text(id)]),
            audit(actor, "group.delete", id, "enforcer group deleted; its tokens revoked"),
        ])
        return !result[1].isEmpty
    }

    /// Replaces the group's token: the old group-wide tokens stop working now. Nil if unknown.
    public func rotateGroupToken(_ id: String, actor: String) async throws(StoreError) -> TokenSecret? {
        guard let group = try await group(id) else { return nil }
        let token = TokenSecret.generate()
        _ = try await database.transaction([
            SQLStatement("UPDATE tokens SET revoked_ms = ? WHERE group_id = ? AND functions IS NULL AND role = 'ingest' AND revoked_ms IS NULL",
                         [.int(Timestamps.nowMs()), .text(id)]),
            insertToken(token, role: .ingest, name: "group \(group.name)", groupID: id, functions: nil, actor: actor),
            audit(actor, "group.rotate", id, "group token rotated; the previous one is revoked"),
        ])
        return token
    }

    /// A token of group `groupID` that may post events only as `functions` (a leaked function's
    /// token cannot speak for the others). Nil if the group is unknown.
    public func createFunctionToken(groupID: String, functions: [FunctionScope], name: String, actor: String) async throws(StoreError) -> TokenSecret? {
        guard try await group(groupID) != nil else { return nil }
        let token = TokenSecret.generate()
        _ = try await database.transaction([
            insertToken(token, role: .ingest, name: name, groupID: groupID, functions: functions, actor: actor),
            audit(actor, "token.create", token.id, "function token for \(functions.map(\.functionName).joined(separator: ", ")) in \(groupID)"),
        ])
        return token
    }

    // MARK: API tokens

    /// A new API token with `role` (printed once by `kitsune server token create`).
    public func createAPIToken(role: Role, name: String, actor: String) async throws(StoreError) -> TokenSecret {
        let token = TokenSecret.generate()
        _ = try await database.transaction([
            insertToken(token, role: role, name: name, groupID: nil, functions: nil, actor: actor),
            audit(actor, "token.create", token.id, "\(role.rawValue) token \(name)"),
        ])
        return token
    }

    /// Every token, newest first (secrets are never stored, so never listed).
    public func listTokens() async throws(StoreError) -> [TokenInfo] {
        try await database.query(SQLStatement(
            "SELECT id, role, name, group_id, functions, created_ms, created_by, revoked_ms FROM tokens ORDER BY created_ms DESC, id"))
            .map { row in
                TokenInfo(id: row.text(0) ?? "", role: Role(rawValue: row.text(1) ?? "") ?? .viewer, name: row.text(2) ?? "",
                          groupID: row.text(3), functions: row.text(4).flatMap { try? JSONDecoder().decode([FunctionScope].self, from: Data($0.utf8)) },
                          createdMs: row.int(5), createdBy: row.text(6) ?? "", revokedMs: row[7].int)
            }
    }

    /// Revokes token `id`; false when there is no such live token.
    public func revokeToken(_ id: String, actor: String) async throws(StoreError) -> Bool {
        let result = try await database.transaction([
            SQLStatement("UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL RETURNING id", [.int(Timestamps.nowMs()), .text(id)]),
            audit(actor, "token.revoke", id, "token revoked"),
        ])
        return !result[0].isEmpty
    }

    /// Whether any API token could still log in (the server says how to make the first one).
    public func hasAPITokens() async throws(StoreError) -> Bool {
        try await database.first(SQLStatement("SELECT id FROM tokens WHERE group_id IS NULL AND revoked_ms IS NULL LIMIT 1")) != nil
    }

    /// The principal behind a presented token; nil when unknown, revoked or wrong.
    public func authenticate(_ token: TokenSecret) async throws(StoreError) -> Principal? {
        guard let row = try await database.first(SQLStatement(
            "SELECT secret_hash, role, name, group_id, functions FROM tokens WHERE id = ? AND revoked_ms IS NULL", [.text(token.id)])),
              token.matches(storedHash: row.text(0) ?? ""), let role = Role(rawValue: row.text(1) ?? "") else { return nil }
        return Principal(tokenID: token.id, role: role, name: row.text(2) ?? "", groupID: row.text(3),
                         functions: row.text(4).flatMap { try? JSONDecoder().decode([FunctionScope].self, from: Data($0.utf8)) })
    }

    func insertToken(_ token: TokenSecret, role: Role, name: String, groupID: String?, functions: [FunctionScope]?, actor: String) -> SQLStatement {
        let scope = functions.flatMap { try? JSONEncoder().encode($0) }.map { SQLValue.text(String(decoding: $0, as: UTF8.self)) } ?? .null
        return SQLStatement("INSERT INTO tokens (id, secret_hash, role, name, group_id, functions, created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [.text(token.id), .text(token.hash), .text(role.rawValue), .text(name), groupID.map { .text($0) } ?? .null,
                             scope, .int(Timestamps.nowMs()), .text(actor)])
    }
}
