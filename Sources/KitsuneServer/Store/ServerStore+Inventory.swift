import Crypto
import Foundation

/// An AWS account the server protects functions in.
public struct AWSAccountRecord: Sendable, Equatable {
    public var accountID: String
    public var regions: [String]
    /// Assumed through STS; nil: the server's own credentials (its own account).
    public var roleARN: String?
    public var externalID: String?
    /// The enforcer group whose function tokens the reconciler issues for this account.
    public var groupID: String?
    public var createdMs: Int64
    public var syncedMs: Int64?
    public var syncError: String?
    /// Who reconciles the account: the server (`direct`) or an agent inside it (`agent`).
    public var mode: AccountMode = .direct
}

/// Who reconciles an account's functions.
public enum AccountMode: String, Sendable, CaseIterable {
    /// The server, with its own credentials or an assumed role.
    case direct
    /// `kitsune agent`, inside the account: the server holds no AWS credentials for it.
    case agent
}

/// Where a function's protection stands.
public enum DeploymentStatus: String, Sendable, CaseIterable {
    /// In no policy's scope, and nothing of Kitsune's on it.
    case unprotected
    /// Carries the layer, wrapper, URL and token of its effective policy.
    case protected
    /// Could not be protected for a reason only the user can change (runtime, image, layer limit…).
    case skipped
    /// The last attempt failed; retried at the next pass.
    case failed
    /// Waiting for AWS (an update in progress, throttling); retried at the next pass.
    case retrying
}

/// A function's deployment: what the reconciler last did to it and why.
public struct Deployment: Sendable, Equatable {
    public var policyID: String?
    public var policyVersion: Int64?
    public var layerARN: String?
    public var status: DeploymentStatus
    public var detail: String
    public var tokenID: String?
    public var changedMs: Int64?

    public init(policyID: String? = nil, policyVersion: Int64? = nil, layerARN: String? = nil, status: DeploymentStatus = .unprotected,
                detail: String = "", tokenID: String? = nil, changedMs: Int64? = nil) {
        self.policyID = policyID
        self.policyVersion = policyVersion
        self.layerARN = layerARN
        self.status = status
        self.detail = detail
        self.tokenID = tokenID
        self.changedMs = changedMs
    }
}

/// One Lambda function of the inventory: its facts as last synced (environment variable names, never
/// their values) and its deployment.
public struct InventoryFunction: Sendable, Equatable {
    public var arn: String
    public var accountID: String
    public var region: String
    public var name: String
    public var runtime: String?
    public var architecture: String
    public var packageType: String
    public var tags: [String: String]
    public var layers: [String]
    public var role: String?
    public var environmentNames: [String]
    public var updateStatus: String?
    public var syncedMs: Int64
    public var deployment = Deployment()

    /// The function's id in the API: stable, URL-safe, derived from its ARN.
    public var id: String { Self.id(arn: arn) }

    public static func id(arn: String) -> String {
        "fn_" + SHA256.hash(data: Data(arn.utf8)).prefix(10).hexString
    }
}

extension ServerStore {
    // MARK: Accounts

    /// Adds an account; 409 when it is already there.
    public func addAccount(_ account: AWSAccountRecord, actor: String) async throws(StoreError) -> AWSAccountRecord {
        try await addAccount(account, actor: actor, extra: { _ in [] })
    }

    /// Adds an account with `extra(groupID)` statements in the same transaction.
    func addAccount(_ account: AWSAccountRecord, actor: String, extra: (String) -> [SQLStatement]) async throws(StoreError) -> AWSAccountRecord {
        var account = account
        account.createdMs = Timestamps.nowMs()
        let groupID = "grp_" + randomHex(bytes: 8)
        account.groupID = groupID
        if try await database.first(SQLStatement("SELECT account_id FROM accounts WHERE account_id = ?", [.text(account.accountID)])) != nil {
            throw .conflict("account \(account.accountID) is already connected")
        }
        let how = account.mode == .agent ? " reconciled by its in-account agent (the server holds no AWS credentials for it)"
            : account.roleARN.map { " through \($0)" } ?? " with the server's own credentials"
        _ = try await database.transaction([
            SQLStatement("INSERT INTO enforcer_groups (id, name, created_ms) VALUES (?, ?, ?)", [.text(groupID), .text("aws-\(account.accountID)"), .int(account.createdMs)]),
            SQLStatement("INSERT INTO accounts (account_id, regions, role_arn, external_id, group_id, created_ms, mode) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [.text(account.accountID), .text(Self.json(account.regions)), account.roleARN.map { .text($0) } ?? .null,
                          account.externalID.map { .text($0) } ?? .null, .text(groupID), .int(account.createdMs), .text(account.mode.rawValue)]),
            audit(actor, "account.add", account.accountID, "account \(account.accountID) connected (\(account.regions.joined(separator: ", ")))" + how),
        ] + extra(groupID))
        return account
    }

    /// Every connected account.
    public func accounts() async throws(StoreError) -> [AWSAccountRecord] {
        try await database.query(SQLStatement("SELECT account_id, regions, role_arn, external_id, group_id, created_ms, synced_ms, sync_error, mode FROM accounts ORDER BY account_id")).map {
            AWSAccountRecord(accountID: $0.text(0) ?? "", regions: Self.strings($0.text(1)), roleARN: $0.text(2), externalID: $0.text(3), groupID: $0.text(4),
                             createdMs: $0.int(5), syncedMs: $0[6].int, syncError: $0.text(7), mode: AccountMode(rawValue: $0.text(8) ?? "") ?? .direct)
        }
    }

    /// Removes an account and its inventory from the server (nothing in AWS is changed).
    public func deleteAccount(_ id: String, actor: String) async throws(StoreError) -> Bool {
        guard try await database.first(SQLStatement("SELECT account_id FROM accounts WHERE account_id = ?", [.text(id)])) != nil else { return false }
        _ = try await database.transaction([
            // An agent's token dies with its account.
            SQLStatement("UPDATE tokens SET revoked_ms = ? WHERE role = 'agent' AND revoked_ms IS NULL AND group_id = (SELECT group_id FROM accounts WHERE account_id = ?)",
                         [.int(Timestamps.nowMs()), .text(id)]),
            SQLStatement("DELETE FROM functions WHERE account_id = ?", [.text(id)]),
            SQLStatement("DELETE FROM accounts WHERE account_id = ?", [.text(id)]),
            audit(actor, "account.delete", id, "account \(id) disconnected; its functions were not changed"),
        ])
        return true
    }

    /// Records the outcome of an account's sync.
    public func recordSync(account: String, error: String?, nowMs: Int64 = Timestamps.nowMs()) async throws(StoreError) {
        _ = try await database.query(SQLStatement("UPDATE accounts SET synced_ms = ?, sync_error = ? WHERE account_id = ?",
                                                  [.int(nowMs), error.map { .text($0) } ?? .null, .text(account)]))
    }

    // MARK: Inventory

    private static let functionColumns = """
        arn, account_id, region, name, runtime, architecture, package_type, tags, layers, role, env_names, update_status, synced_ms,
        policy_id, policy_version, layer_arn, status, detail, token_id, changed_ms
        """

    /// Makes the inventory of `account`/`region` equal `functions` (their facts; deployments are kept),
    /// removing the functions that no longer exist. Returns the removed ones.
    @discardableResult
    public func syncInventory(account: String, region: String, functions: [InventoryFunction]) async throws(StoreError) -> [InventoryFunction] {
        let known = try await self.functions(account: account, region: region)
        let present = Set(functions.map(\.arn))
        let gone = known.filter { !present.contains($0.arn) }
        var statements = gone.map { SQLStatement("DELETE FROM functions WHERE arn = ?", [.text($0.arn)]) }
        for f in functions {
            statements.append(SQLStatement("""
                INSERT INTO functions (\(Self.functionColumns), id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 'unprotected', '', NULL, NULL, ?)
                ON CONFLICT (arn) DO UPDATE SET runtime = excluded.runtime, architecture = excluded.architecture, package_type = excluded.package_type,
                    tags = excluded.tags, layers = excluded.layers, role = excluded.role, env_names = excluded.env_names,
                    update_status = excluded.update_status, synced_ms = excluded.synced_ms
                """, [.text(f.arn), .text(f.accountID), .text(f.region), .text(f.name), f.runtime.map { .text($0) } ?? .null, .text(f.architecture),
                      .text(f.packageType), .text(Self.json(f.tags)), .text(Self.json(f.layers)), f.role.map { .text($0) } ?? .null,
                      .text(Self.json(f.environmentNames)), f.updateStatus.map { .text($0) } ?? .null, .int(f.syncedMs), .text(f.id)]))
        }
        for chunk in stride(from: 0, to: statements.count, by: 500) {
            _ = try await database.transaction(Array(statements[chunk..<min(chunk + 500, statements.count)]))
        }
        return gone
    }

    /// Records a function's deployment (and the layers it now carries, when known).
    public func setDeployment(arn: String, _ deployment: Deployment, layers: [String]? = nil) async throws(StoreError) {
        var sql = "UPDATE functions SET policy_id = ?, policy_version = ?, layer_arn = ?, status = ?, detail = ?, token_id = ?, changed_ms = ?"
        var binds: [SQLValue] = [deployment.policyID.map { .text($0) } ?? .null, deployment.policyVersion.map { .int($0) } ?? .null,
                                 deployment.layerARN.map { .text($0) } ?? .null, .text(deployment.status.rawValue), .text(String(deployment.detail.prefix(2000))),
                                 deployment.tokenID.map { .text($0) } ?? .null, deployment.changedMs.map { .int($0) } ?? .null]
        if let layers { sql += ", layers = ?"; binds.append(.text(Self.json(layers))) }
        _ = try await database.query(SQLStatement(sql + " WHERE arn = ?", binds + [.text(arn)]))
    }

    /// The inventory, optionally of one account and region, by account, region and name.
    public func functions(account: String? = nil, region: String? = nil) async throws(StoreError) -> [InventoryFunction] {
        var conditions: [String] = [], binds: [SQLValue] = []
        if let account { conditions.append("account_id = ?"); binds.append(.text(account)) }
        if let region { conditions.append("region = ?"); binds.append(.text(region)) }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await database.query(SQLStatement("SELECT \(Self.functionColumns) FROM functions\(filter) ORDER BY account_id, region, name", binds))
            .map(Self.inventoryFunction)
    }

    /// The function with API id `id` (or ARN).
    public func function(_ id: String) async throws(StoreError) -> InventoryFunction? {
        try await database.first(SQLStatement("SELECT \(Self.functionColumns) FROM functions WHERE id = ? OR arn = ?", [.text(id), .text(id)])).map(Self.inventoryFunction)
    }

    private static func inventoryFunction(_ r: SQLRow) -> InventoryFunction {
        InventoryFunction(arn: r.text(0) ?? "", accountID: r.text(1) ?? "", region: r.text(2) ?? "", name: r.text(3) ?? "", runtime: r.text(4),
                          architecture: r.text(5) ?? "x86_64", packageType: r.text(6) ?? "Zip",
                          tags: (try? JSONDecoder().decode([String: String].self, from: Data((r.text(7) ?? "{}").utf8))) ?? [:],
                          layers: strings(r.text(8)), role: r.text(9), environmentNames: strings(r.text(10)), updateStatus: r.text(11), syncedMs: r.int(12),
                          deployment: Deployment(policyID: r.text(13), policyVersion: r[14].int, layerARN: r.text(15),
                                                 status: DeploymentStatus(rawValue: r.text(16) ?? "") ?? .unprotected, detail: r.text(17) ?? "",
                                                 tokenID: r.text(18), changedMs: r[19].int))
    }

    // MARK: Layer versions

    /// The layer version published for `key` in `account`/`region`, if any.
    public func layerVersion(key: String, account: String, region: String) async throws(StoreError) -> String? {
        try await database.first(SQLStatement("SELECT layer_arn FROM layer_versions WHERE content_key = ? AND account_id = ? AND region = ?",
                                              [.text(key), .text(account), .text(region)]))?.text(0)
    }

    /// Records a published layer version.
    public func recordLayerVersion(key: String, account: String, region: String, arn: String, architecture: String) async throws(StoreError) {
        _ = try await database.query(SQLStatement("""
            INSERT INTO layer_versions (content_key, account_id, region, layer_arn, architecture, created_ms) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (content_key, account_id, region) DO UPDATE SET layer_arn = excluded.layer_arn
            """, [.text(key), .text(account), .text(region), .text(arn), .text(architecture), .int(Timestamps.nowMs())]))
    }

    /// The layer versions published in `account`/`region`.
    public func layerVersions(account: String, region: String) async throws(StoreError) -> [(key: String, arn: String)] {
        try await database.query(SQLStatement("SELECT content_key, layer_arn FROM layer_versions WHERE account_id = ? AND region = ?", [.text(account), .text(region)]))
            .map { ($0.text(0) ?? "", $0.text(1) ?? "") }
    }

    /// Forgets a layer version (deleted from AWS).
    public func forgetLayerVersion(arn: String) async throws(StoreError) {
        _ = try await database.query(SQLStatement("DELETE FROM layer_versions WHERE layer_arn = ?", [.text(arn)]))
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func strings(_ text: String?) -> [String] {
        text.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
    }
}
