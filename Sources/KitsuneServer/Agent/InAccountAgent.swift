import Foundation
import KitsuneAWS
import KitsunePolicy

/// `kitsune agent`: the reconciler's pass, run inside the customer's account with the account's own
/// credential chain. It pulls the desired state from the server, runs the very same ``Reconciler``
/// over a scratch store seeded with it (so nothing is kept between passes: a Lambda cold start is
/// fine), and posts the inventory and outcomes back. The server never calls AWS for the account.
public struct InAccountAgent: Sendable {
    public let client: AgentClient
    /// The AWS client of a region, sending through `transport` (default: the environment's
    /// credential chain, honouring `AWS_ENDPOINT_URL`).
    public let aws: @Sendable (_ region: String, _ transport: any HTTPTransport) throws -> AWSClient
    public let layers: any LayerSource
    /// Only these of the account's regions (nil: all of them).
    public let regions: [String]?
    public var concurrency = 8

    public init(client: AgentClient, regions: [String]? = nil, layers: any LayerSource = InstalledLayerSource(),
                aws: (@Sendable (String, any HTTPTransport) throws -> AWSClient)? = nil) {
        self.client = client
        self.regions = regions
        self.layers = layers
        self.aws = aws ?? { region, transport in try AWSClient.fromEnvironment(region: region, transport: transport) }
    }

    /// What a pass did, and whether it failed as a whole (the desired state or the report could not
    /// be exchanged, or a region could not be listed).
    public struct PassResult: Sendable {
        public var report: ReconcileReport
        public var failed: Bool { !report.failures.isEmpty }
        /// The pass as JSON (the shape of `POST /api/v1/reconcile`'s answer).
        public var json: String {
            var w = JSONWriter()
            APIRender.report(report, in: &w)
            return w.text
        }
    }

    /// One pass: pull, reconcile, report.
    public func runOnce() async throws -> PassResult {
        let desired = try await client.desiredState()
        let chosen = try chosenRegions(desired.account.regions)
        let policies = try desired.policies.map { p throws -> StoredPolicy in
            do {
                return StoredPolicy(id: p.id, version: p.version, policy: try RuntimePolicy(yaml: p.document), createdMs: p.updatedMs, updatedMs: p.updatedMs, updatedBy: "server")
            } catch {
                throw AgentError("policy \(p.name) v\(p.version) does not parse with this agent (\(error)); nothing was changed: upgrade the agent")
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let mirror = try await ServerStore.open(data: directory.path, databaseURL: nil)
        do {
            let result = try await pass(desired: desired, regions: chosen, policies: policies, mirror: mirror)
            await mirror.database.close()
            return result
        } catch {
            await mirror.database.close()
            throw error
        }
    }

    private func pass(desired: AgentDesiredState, regions: [String], policies: [StoredPolicy], mirror: ServerStore) async throws -> PassResult {
        try await mirror.seedMirror(desired)
        let calls = CallCounter()
        let aws = self.aws
        let connector = STSAccountConnector(calls: calls) { region in try aws(region, CountingTransport(inner: URLSessionTransport(), counter: calls)) }
        var options = ReconcileOptions(eventsURL: desired.eventsUrl)
        options.layerPrefix = desired.layerPrefix
        options.concurrency = concurrency
        let reconciler = Reconciler(store: mirror, connector: connector, layers: layers, options: options, calls: calls, tokens: AgentTokenIssuer(client: client))
        let account = AWSAccountRecord(accountID: desired.account.accountId, regions: regions, roleARN: nil, externalID: nil,
                                       groupID: desired.account.groupId, createdMs: 0, mode: .agent)
        let report = try await reconciler.pass(actor: "agent:\(account.accountID)", accounts: [account], policies: policies)
        let failed = Set(report.failures.map(\.region))
        let synced = regions.filter { !failed.contains($0) }
        let functions = try await mirror.functions(account: account.accountID).filter { synced.contains($0.region) }
        var layers: [AgentLayerVersion] = []
        for region in synced {
            layers += try await mirror.database.query(SQLStatement("SELECT content_key, layer_arn, architecture FROM layer_versions WHERE account_id = ? AND region = ?",
                                                                   [.text(account.accountID), .text(region)]))
                .map { AgentLayerVersion(key: $0.text(0) ?? "", region: region, arn: $0.text(1) ?? "", architecture: $0.text(2) ?? "x86_64") }
        }
        let posted = AgentReport(
            accountId: account.accountID, startedMs: report.startedMs, finishedMs: report.finishedMs, awsCalls: report.awsCalls,
            regions: regions.map { r in .init(region: r, error: report.failures.first { $0.region == r }.map { String($0.error.prefix(2000)) }) },
            functions: functions.map { f in
                .init(arn: f.arn, region: f.region, name: f.name, runtime: f.runtime, architecture: f.architecture, packageType: f.packageType, tags: f.tags,
                      layers: f.layers, role: f.role, environmentNames: f.environmentNames, updateStatus: f.updateStatus, deployment: AgentDeployment(f.deployment))
            },
            outcomes: report.items.map { i in
                .init(arn: i.arn, name: i.name, region: i.region, policyId: i.policyID, policyName: i.policyName, policyVersion: i.policyVersion,
                      outcome: i.outcome.rawValue, detail: String(i.detail.prefix(2000)), repeated: i.repeated)
            },
            layerVersions: layers)
        try await client.report(posted)
        return PassResult(report: report)
    }

    private func chosenRegions(_ registered: [String]) throws -> [String] {
        guard let regions else { return registered }
        for r in regions where !registered.contains(r) {
            throw AgentError("--regions: \(r) is not one of the account's regions on the server (\(registered.joined(separator: ", ")))")
        }
        return regions
    }
}
