import Foundation
import KitsuneAWS
import KitsunePolicy

/// Settings of the reconciler.
public struct ReconcileOptions: Sendable {
    /// `KITSUNE_EVENTS_URL` given to protected functions (`--public-url` + `/api/v1/events`); without
    /// it nothing can be protected (functions would report nowhere) and the pass says so.
    public var eventsURL: String?
    /// Functions handled at once within an account and region.
    public var concurrency = 8
    /// Managed layers are named `PREFIX-x86_64` and `PREFIX-arm64`.
    public var layerPrefix = "kitsune-managed"
    /// How often the background job runs a pass.
    public var intervalMs: Int64 = 60_000

    public init(eventsURL: String? = nil) {
        self.eventsURL = eventsURL
    }
}

/// Makes every inventoried function's configuration equal its desired one: the Kitsune layer of its
/// effective policy version with the wrapper, events URL and a token scoped to that function — or,
/// out of every policy's scope, nothing of Kitsune's. The only writer of Kitsune's part of a
/// function; one `UpdateFunctionConfiguration` per change, guarded by the function's RevisionId.
public struct Reconciler: Sendable {
    public let store: ServerStore
    public let connector: any AccountConnector
    public let layers: any LayerSource
    public let options: ReconcileOptions
    /// Counts the AWS calls of a pass, when the connector shares it.
    public let calls: CallCounter?
    /// Issues and revokes the functions' tokens (the store itself, or the server for an agent).
    public let tokens: any FunctionTokenIssuer

    public init(store: ServerStore, connector: any AccountConnector, layers: any LayerSource, options: ReconcileOptions, calls: CallCounter? = nil,
                tokens: (any FunctionTokenIssuer)? = nil) {
        self.store = store
        self.connector = connector
        self.layers = layers
        self.options = options
        self.calls = calls
        self.tokens = tokens ?? StoreTokenIssuer(store: store)
    }

    var planner: ProtectionPlanner {
        ProtectionPlanner(layerNames: Set(["x86_64", "arm64"].map { ProtectionPlanner.layerName(prefix: options.layerPrefix, architecture: $0) }))
    }

    /// One pass over every account and region the server reconciles itself (agent-mode accounts are
    /// their agents' business: the server never calls AWS for them); writes the inventory,
    /// deployments and audit entries.
    public func pass(actor: String = "reconciler") async throws(StoreError) -> ReconcileReport {
        // Policies due for promotion (`promote_after`) become enforce first, for every account.
        _ = try await PolicyPromotion(store: store).promoteDue(actor: actor)
        let accounts = try await store.accounts().filter { $0.mode == .direct }
        return try await pass(actor: actor, accounts: accounts, policies: try await store.policies())
    }

    /// One pass over `accounts` with `policies` (the in-account agent gives the server's).
    public func pass(actor: String, accounts: [AWSAccountRecord], policies: [StoredPolicy]) async throws(StoreError) -> ReconcileReport {
        let before = calls?.total ?? 0
        var report = ReconcileReport(startedMs: Timestamps.nowMs())
        for account in accounts {
            var accountError: String?
            for region in account.regions {
                do {
                    report.items += try await reconcile(account: account, region: region, policies: policies, actor: actor)
                } catch let error as StoreError {
                    throw error
                } catch {
                    accountError = "\(region): \(error)"
                    report.failures.append(.init(account: account.accountID, region: region, error: "\(error)"))
                }
            }
            try await store.recordSync(account: account.accountID, error: accountError)
        }
        report.finishedMs = Timestamps.nowMs()
        report.awsCalls = (calls?.total ?? 0) - before
        let audits = report.auditSummaries.map { store.audit(actor, "reconcile", $0.target, $0.detail) }
            + report.failures.map { store.audit(actor, "reconcile.account", $0.account, "\($0.region): cannot list functions, nothing changed: \($0.error)") }
        if !audits.isEmpty { _ = try await store.database.transaction(audits) }
        return report
    }

    /// One account and region: inventory, then each function, then unused layer versions.
    func reconcile(account: AWSAccountRecord, region: String, policies: [StoredPolicy], actor: String) async throws -> [ReconcileReport.Item] {
        let client = try await connector.client(for: account, region: region)
        let lambda = client.lambda
        let configurations = try await lambda.listFunctions()
        let tags = await boundedMap(configurations, limit: options.concurrency) { try await lambda.listTags($0.functionArn) }
        let now = Timestamps.nowMs()
        let inventory = zip(configurations, tags).map { c, tagsRead in
            InventoryFunction(arn: c.functionArn, accountID: account.accountID, region: region, name: c.functionName, runtime: c.runtime,
                              architecture: c.architectures?.first ?? "x86_64", packageType: c.packageType ?? "Zip",
                              tags: (try? tagsRead.get()) ?? [:], layers: c.layerARNs, role: c.role,
                              environmentNames: c.variables.keys.sorted(), updateStatus: c.lastUpdateStatus, syncedMs: now)
        }
        let gone = try await store.syncInventory(account: account.accountID, region: region, functions: inventory)
        for function in gone { if let token = function.deployment.tokenID { await tokens.revoke(token, actor: actor) } }
        let records = Dictionary(try await store.functions(account: account.accountID, region: region).map { ($0.arn, $0) }) { a, _ in a }
        let context = FunctionReconciler(store: store, lambda: lambda, layers: LayerPublisher(store: store, lambda: lambda, source: layers, account: account.accountID,
                                                                                              region: region, prefix: options.layerPrefix),
                                         planner: planner, options: options, account: account, actor: actor, tokens: tokens)
        let work = Array(zip(configurations, tags))
        let outcomes = await boundedMap(work, limit: options.concurrency) { pair in
            await context.reconcile(pair.0, tags: try? pair.1.get(), record: records[pair.0.functionArn], policies: policies)
        }
        let items = outcomes.compactMap { try? $0.get() }
        // Layer versions no function carries or is meant to carry any more are deleted.
        let after = try await store.functions(account: account.accountID, region: region)
        try await context.layers.cleanUp(inUse: Set(after.flatMap { $0.layers + [$0.deployment.layerARN].compactMap { $0 } }))
        return items
    }
}
