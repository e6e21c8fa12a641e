import Foundation
import KitsunePolicy

/// Accounts reconciled by an in-account agent: the agent's token, the desired state it pulls and the
/// report it posts back. The server keeps the agent's inventory exactly like its own sync's, so
/// `GET /api/v1/functions` and the audit log show both kinds of account alike.
extension ServerStore {
    /// Adds an agent-mode account and its agent token (role `agent`, in the account's group; returned
    /// once, stored as a hash).
    public func addAgentAccount(_ account: AWSAccountRecord, actor: String) async throws(StoreError) -> (AWSAccountRecord, TokenSecret) {
        var account = account
        account.mode = .agent
        account.roleARN = nil
        account.externalID = nil
        let token = TokenSecret.generate()
        let saved = try await addAccount(account, actor: actor) { groupID in
            [self.insertToken(token, role: .agent, name: "agent \(account.accountID)", groupID: groupID, functions: nil, actor: actor),
             self.audit(actor, "token.create", token.id, "agent token for account \(account.accountID)")]
        }
        return (saved, token)
    }

    /// A new agent token for agent-mode account `id`; the previous one stops working now. Nil when
    /// there is no such agent-mode account.
    public func rotateAgentToken(account id: String, actor: String) async throws(StoreError) -> TokenSecret? {
        guard let account = try await accounts().first(where: { $0.accountID == id }), account.mode == .agent, let groupID = account.groupID else { return nil }
        let token = TokenSecret.generate()
        _ = try await database.transaction([
            SQLStatement("UPDATE tokens SET revoked_ms = ? WHERE role = 'agent' AND group_id = ? AND revoked_ms IS NULL", [.int(Timestamps.nowMs()), .text(groupID)]),
            insertToken(token, role: .agent, name: "agent \(id)", groupID: groupID, functions: nil, actor: actor),
            audit(actor, "token.rotate", token.id, "agent token of account \(id) rotated; the previous one is revoked"),
        ])
        return token
    }

    /// The agent-mode account an agent principal speaks for.
    public func agentAccount(for principal: Principal) async throws(StoreError) -> AWSAccountRecord? {
        guard principal.role == .agent, let group = principal.groupID else { return nil }
        return try await accounts().first { $0.groupID == group && $0.mode == .agent }
    }

    /// Live function-scoped tokens of group `groupID`, with their secrets' hashes.
    func functionTokens(groupID: String) async throws(StoreError) -> [AgentDesiredState.FunctionToken] {
        try await database.query(SQLStatement(
            "SELECT id, secret_hash, functions FROM tokens WHERE group_id = ? AND role = 'ingest' AND functions IS NOT NULL AND revoked_ms IS NULL ORDER BY id",
            [.text(groupID)])).compactMap { row in
            guard let scopes = row.text(2).flatMap({ try? JSONDecoder().decode([FunctionScope].self, from: Data($0.utf8)) }), scopes.count == 1 else { return nil }
            return .init(id: row.text(0) ?? "", secretSha256: row.text(1) ?? "", functionName: scopes[0].functionName, region: scopes[0].region)
        }
    }

    /// Every function token ever issued in group `groupID`, live or revoked: the only ids an agent's
    /// report may name (a deployment can still carry one an admin revoked since).
    func functionTokenIDs(groupID: String) async throws(StoreError) -> Set<String> {
        Set(try await database.query(SQLStatement("SELECT id FROM tokens WHERE group_id = ? AND role = 'ingest' AND functions IS NOT NULL", [.text(groupID)]))
            .compactMap { $0.text(0) })
    }

    /// Revokes function token `id` of group `groupID` (never the group's or the agent's own token).
    func revokeFunctionToken(_ id: String, groupID: String, actor: String) async throws(StoreError) -> Bool {
        let result = try await database.transaction([
            SQLStatement("UPDATE tokens SET revoked_ms = ? WHERE id = ? AND group_id = ? AND role = 'ingest' AND functions IS NOT NULL AND revoked_ms IS NULL RETURNING id",
                         [.int(Timestamps.nowMs()), .text(id), .text(groupID)]),
            audit(actor, "token.revoke", id, "function token revoked by the account's agent"),
        ])
        return !result[0].isEmpty
    }

    /// The desired state of agent-mode `account`.
    func desiredState(for account: AWSAccountRecord, options: ReconcileOptions) async throws(StoreError) -> AgentDesiredState {
        let groupID = account.groupID ?? ""
        // Only the policies that can cover this account: an agent learns nothing of the others.
        let documents = try await policies().filter { p in p.policy.scope.accounts.isEmpty || p.policy.scope.accounts.contains { PolicyScope.glob(account.accountID, $0) } }
            .map { AgentDesiredState.Policy(id: $0.id, name: $0.policy.name, version: $0.version, document: $0.policy.document, updatedMs: $0.updatedMs) }
        var layers: [AgentLayerVersion] = []
        for region in account.regions {
            let rows = try await database.query(SQLStatement("SELECT content_key, layer_arn, architecture FROM layer_versions WHERE account_id = ? AND region = ? ORDER BY content_key",
                                                             [.text(account.accountID), .text(region)]))
            layers += rows.map { AgentLayerVersion(key: $0.text(0) ?? "", region: region, arn: $0.text(1) ?? "", architecture: $0.text(2) ?? "x86_64") }
        }
        return AgentDesiredState(
            account: .init(accountId: account.accountID, regions: account.regions, groupId: groupID), eventsUrl: options.eventsURL,
            layerPrefix: options.layerPrefix, policies: documents,
            functions: try await functions(account: account.accountID).map { .init(arn: $0.arn, region: $0.region, name: $0.name, layers: $0.layers, deployment: AgentDeployment($0.deployment)) },
            functionTokens: try await functionTokens(groupID: groupID), layerVersions: layers)
    }

    /// Applies a checked agent report: the inventory and deployments of each region it synced (tokens
    /// of functions that are gone revoked), their layer versions, the account's sync status, and the
    /// pass's audit lines — as the server's own pass writes them.
    func apply(_ checked: AgentReportCheck.Checked, account: AWSAccountRecord, actor: String) async throws(StoreError) {
        for region in checked.syncedRegions {
            let functions = checked.functions.filter { $0.region == region }
            let gone = try await syncInventory(account: account.accountID, region: region, functions: functions)
            for f in gone { if let token = f.deployment.tokenID { _ = try await revokeToken(token, actor: actor) } }
            var statements = functions.map { f in
                SQLStatement("UPDATE functions SET policy_id = ?, policy_version = ?, layer_arn = ?, status = ?, detail = ?, token_id = ?, changed_ms = ? WHERE arn = ?",
                             [f.deployment.policyID.map { .text($0) } ?? .null, f.deployment.policyVersion.map { .int($0) } ?? .null,
                              f.deployment.layerARN.map { .text($0) } ?? .null, .text(f.deployment.status.rawValue), .text(f.deployment.detail),
                              f.deployment.tokenID.map { .text($0) } ?? .null, f.deployment.changedMs.map { .int($0) } ?? .null, .text(f.arn)])
            }
            statements.append(SQLStatement("DELETE FROM layer_versions WHERE account_id = ? AND region = ?", [.text(account.accountID), .text(region)]))
            for l in checked.layerVersions where l.region == region {
                statements.append(SQLStatement("""
                    INSERT INTO layer_versions (content_key, account_id, region, layer_arn, architecture, created_ms) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (content_key, account_id, region) DO UPDATE SET layer_arn = excluded.layer_arn
                    """, [.text(l.key), .text(account.accountID), .text(region), .text(l.arn), .text(l.architecture), .int(Timestamps.nowMs())]))
            }
            for chunk in stride(from: 0, to: statements.count, by: 500) {
                _ = try await database.transaction(Array(statements[chunk..<min(chunk + 500, statements.count)]))
            }
        }
        let error = checked.regionErrors.isEmpty ? nil : checked.regionErrors.map { "\($0.region): \($0.error)" }.joined(separator: "; ")
        try await recordSync(account: account.accountID, error: error)
        let audits = checked.report.auditSummaries.map { audit(actor, "reconcile", $0.target, $0.detail) }
            + checked.report.failures.map { audit(actor, "reconcile.account", $0.account, "\($0.region): cannot list functions, nothing changed: \($0.error)") }
        if !audits.isEmpty { _ = try await database.transaction(audits) }
    }

    /// Seeds an agent's scratch store with the server's view of its account, so the reconciler's pass
    /// runs there exactly as on the server: the account and its group, the known deployments, the live
    /// function tokens (by hash) and the layer versions published before.
    func seedMirror(_ desired: AgentDesiredState) async throws(StoreError) {
        let now = Timestamps.nowMs(), account = desired.account
        var statements = [
            SQLStatement("INSERT INTO enforcer_groups (id, name, created_ms) VALUES (?, ?, ?)", [.text(account.groupId), .text("aws-\(account.accountId)"), .int(now)]),
            SQLStatement("INSERT INTO accounts (account_id, regions, group_id, created_ms, mode) VALUES (?, ?, ?, ?, 'agent')",
                         [.text(account.accountId), .text(Self.json(account.regions)), .text(account.groupId), .int(now)]),
        ]
        for t in desired.functionTokens {
            let scope = Self.json([FunctionScope(functionName: t.functionName, accountID: account.accountId, region: t.region)])
            statements.append(SQLStatement("INSERT INTO tokens (id, secret_hash, role, name, group_id, functions, created_ms, created_by) VALUES (?, ?, 'ingest', ?, ?, ?, ?, 'server')",
                                           [.text(t.id), .text(t.secretSha256), .text("function \(t.functionName)"), .text(account.groupId), .text(scope), .int(now)]))
        }
        for l in desired.layerVersions {
            statements.append(SQLStatement("INSERT INTO layer_versions (content_key, account_id, region, layer_arn, architecture, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                                           [.text(l.key), .text(account.accountId), .text(l.region), .text(l.arn), .text(l.architecture), .int(now)]))
        }
        _ = try await database.transaction(statements)
        for region in Set(desired.functions.map(\.region)) {
            let known = desired.functions.filter { $0.region == region }
            try await syncInventory(account: account.accountId, region: region, functions: known.map {
                InventoryFunction(arn: $0.arn, accountID: account.accountId, region: region, name: $0.name, runtime: nil, architecture: "x86_64", packageType: "Zip",
                                  tags: [:], layers: $0.layers, role: nil, environmentNames: [], updateStatus: nil, syncedMs: now)
            })
            for f in known { try await setDeployment(arn: f.arn, f.deployment.deployment) }
        }
    }
}
