import Foundation
import KitsuneAWS
import KitsunePolicy

/// Publishes managed layer versions in one account and region, once per content key: concurrent
/// functions asking for the same policy version and architecture share one `PublishLayerVersion`,
/// and a key already published (and still there) is reused.
actor LayerPublisher {
    let store: ServerStore
    let lambda: LambdaClient
    let source: any LayerSource
    let account: String
    let region: String
    let prefix: String
    private var inFlight: [String: Task<String, any Error>] = [:]

    init(store: ServerStore, lambda: LambdaClient, source: any LayerSource, account: String, region: String, prefix: String) {
        self.store = store
        self.lambda = lambda
        self.source = source
        self.account = account
        self.region = region
        self.prefix = prefix
    }

    /// The layer version ARN carrying `policy` for `architecture`. The archive is built only when a
    /// version must be published: one already published for its content key is reused as it is.
    func arn(for policy: StoredPolicy, architecture: String) async throws -> String {
        let key = try source.key(for: policy.policy, architecture: architecture)
        if let task = inFlight[key] { return try await task.value }
        let task = Task { try await self.publish(key: key, policy: policy, architecture: architecture) }
        inFlight[key] = task
        do { return try await task.value } catch {
            inFlight[key] = nil     // the next function tries again
            throw error
        }
    }

    private func publish(key: String, policy: StoredPolicy, architecture: String) async throws -> String {
        if let arn = try await store.layerVersion(key: key, account: account, region: region) {
            do { _ = try await lambda.getLayerVersion(arn: arn); return arn } catch let error as AWSError where error.isNotFound {
                try await store.forgetLayerVersion(arn: arn)      // deleted by hand: publish again
            }
        }
        let content = try source.layer(for: policy.policy, architecture: architecture)
        let published = try await lambda.publishLayerVersion(
            ProtectionPlanner.layerName(prefix: prefix, architecture: content.architecture), zip: Array(content.zip),
            description: "Kitsune enforcer \(content.key) with policy \(policy.policy.name) v\(policy.version)",
            compatibleRuntimes: Self.compatibleRuntimes, compatibleArchitectures: [content.architecture])
        try await store.recordLayerVersion(key: content.key, account: account, region: region, arn: published.layerVersionArn, architecture: content.architecture)
        return published.layerVersionArn
    }

    /// Deletes the managed layer versions of this account and region that no function carries any
    /// more (functions that still have one keep working: Lambda keeps a deleted version for them).
    func cleanUp(inUse: Set<String>) async throws {
        var published = Set<String>()
        for task in inFlight.values { if let arn = try? await task.value { published.insert(arn) } }
        for (_, arn) in try await store.layerVersions(account: account, region: region) where !inUse.contains(arn) && !published.contains(arn) {
            do { try await lambda.deleteLayerVersion(arn: arn) } catch let error as AWSError where error.isNotFound {}
            try await store.forgetLayerVersion(arn: arn)
        }
    }

    /// `compatible_runtimes` of `ServerData/managed-layer.json`.
    static let compatibleRuntimes: [String] = {
        struct File: Decodable { let compatible_runtimes: [String] }
        guard let url = Bundle.module.url(forResource: "managed-layer", withExtension: "json", subdirectory: "ServerData"),
              let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return Array(file.compatible_runtimes.prefix(15))
    }()
}
