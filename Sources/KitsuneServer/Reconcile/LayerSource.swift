import Crypto
import Foundation
import KitsuneLambda
import KitsunePolicy

/// The content of a managed Kitsune layer: the enforcer build for an architecture and one policy
/// version baked in. `key` is its content address: the same enforcer × policy × architecture gives the
/// same key, so one published layer version serves every function that shares them.
public struct LayerContent: Sendable {
    public var key: String
    public var architecture: String
    public var zip: Data
}

/// Why a layer cannot be built.
public struct LayerSourceError: Error, CustomStringConvertible {
    public let description: String
}

/// Builds layer contents. A seam: the server builds from the enforcer binaries installed beside it.
public protocol LayerSource: Sendable {
    /// The layer for `policy` (its enforcer part, merged with the Lambda defaults) on `architecture`.
    func layer(for policy: RuntimePolicy, architecture: String) throws -> LayerContent
    /// Its content key alone, without building the archive (a layer version already published for
    /// the key is reused, so a pass with nothing to publish builds nothing).
    func key(for policy: RuntimePolicy, architecture: String) throws -> String
}

extension LayerSource {
    public func key(for policy: RuntimePolicy, architecture: String) throws -> String {
        try layer(for: policy, architecture: architecture).key
    }
}

/// Builds layers with ``LayerBuilder`` from the enforcer beside this `kitsune` (or `KITSUNE_ENFORCER`),
/// caching each by content key (a pass over 1000 functions builds each distinct layer once).
public final class InstalledLayerSource: LayerSource, @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: LayerContent] = [:]
    private let enforcers: [String: URL]
    /// Each enforcer's SHA-256, read once: a pass asks for a layer per function.
    private let digests: [String: Data]
    private let failures: [String: String]
    private let defaults: Result<String, any Error>

    /// Finds the enforcer of each architecture; an architecture without one fails only its functions.
    public init(explicit: [String: String] = [:]) {
        var enforcers: [String: URL] = [:], failures: [String: String] = [:]
        for architecture in LayerArchitecture.allCases {
            do { enforcers[architecture.rawValue] = try LayerBinaries.enforcer(for: architecture, explicit: explicit[architecture.rawValue]) } catch {
                failures[architecture.rawValue] = "\(error)"
            }
        }
        self.enforcers = enforcers
        self.digests = enforcers.compactMapValues { url in (try? Data(contentsOf: url)).map { Data(SHA256.hash(data: $0)) } }
        self.failures = failures
        defaults = Result { String(decoding: try LayerBuilder.defaultPolicy(), as: UTF8.self) }
    }

    public func key(for policy: RuntimePolicy, architecture: String) throws -> String {
        try keyAndText(for: policy, architecture: architecture).key
    }

    /// The content key and the policy text baked in.
    private func keyAndText(for policy: RuntimePolicy, architecture: String) throws -> (key: String, text: String) {
        guard LayerArchitecture(name: architecture) != nil else { throw LayerSourceError(description: "unknown architecture \(architecture)") }
        guard enforcers[architecture] != nil else {
            throw LayerSourceError(description: failures[architecture] ?? "no \(architecture) kitsune-enforcer installed beside kitsune")
        }
        let text = try policy.layerPolicy(base: try defaults.get())
        var hasher = SHA256()
        hasher.update(data: Data(architecture.utf8))
        hasher.update(data: Data(text.utf8))
        hasher.update(data: digests[architecture] ?? Data())
        return (hasher.finalize().prefix(16).hexString, text)
    }

    public func layer(for policy: RuntimePolicy, architecture: String) throws -> LayerContent {
        guard let arch = LayerArchitecture(name: architecture) else { throw LayerSourceError(description: "unknown architecture \(architecture)") }
        let (key, text) = try keyAndText(for: policy, architecture: architecture)
        guard let enforcer = enforcers[architecture] else { throw LayerSourceError(description: "no \(architecture) kitsune-enforcer installed beside kitsune") }
        if let hit = lock.withLock({ cache[key] }) { return hit }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-policy-\(key)-\(UUID().uuidString).yaml")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let content = LayerContent(key: key, architecture: architecture, zip: try LayerBuilder.archive(enforcer: enforcer, policy: file, architecture: arch))
        lock.withLock { cache[key] = content }
        return content
    }
}
