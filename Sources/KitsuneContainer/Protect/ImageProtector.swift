import Foundation
import KitsunePolicy
import KitsunePolicyCore

/// What `kitsune image protect` puts into an image.
public struct ProtectRequest {
    /// The static `kitsune-enforcer` binary.
    public var enforcer: [UInt8]
    /// `kitsune-ship` (HTTPS event shipping), when available.
    public var ship: [UInt8]?
    /// Policy YAML to bake in (validated); nil: the enforcer's defaults.
    public var policy: [UInt8]?
    /// `enforce` or `audit`, overriding the policy's mode.
    public var mode: String?

    public init(enforcer: [UInt8], ship: [UInt8]? = nil, policy: [UInt8]? = nil, mode: String? = nil) {
        self.enforcer = enforcer; self.ship = ship; self.policy = policy; self.mode = mode
    }
}

/// A protected image, ready to write.
public struct ProtectedImage {
    public var image: Image
    /// Canonical config JSON and its digest.
    public var configBytes: [UInt8]
    /// Uncompressed tar of the `/.kitsune` layer (also appended, gzipped, to `image.layers`).
    public var kitsuneLayer: [UInt8]
    public var manifest: Manifest
    public var command: [String]
}

/// Where Kitsune lives inside a protected image.
public enum KitsunePaths {
    public static let directory = "/.kitsune"
    public static let enforcer = "/.kitsune/kitsune-enforcer"
    public static let policy = "/.kitsune/policy.yaml"
    public static let manifest = "/.kitsune/manifest.json"
    /// Image labels: the original entrypoint and command (JSON arrays), the source digest.
    public static let labelProtected = "io.kitsune.protected"
    public static let labelEntrypoint = "io.kitsune.entrypoint"
    public static let labelCommand = "io.kitsune.command"
    public static let labelSource = "io.kitsune.source-digest"
}

/// `kitsune image protect`: flatten the layers, inventory every executable, append the `/.kitsune`
/// layer and put the enforcer in front of the entrypoint. Same input, same output bytes.
public struct ImageProtector {
    public var limits = ImageLimits()
    public let rules: ManifestRules

    public init(rules: ManifestRules) { self.rules = rules }

    /// The flattened root file system of `image` (every layer verified against its `diff_id`).
    public func flatten(_ image: Image) throws -> LayerFlattener {
        var tree = LayerFlattener(rules: rules)
        for (i, layer) in image.layers.enumerated() {
            try tree.apply(tar: try image.uncompressedLayer(i, limit: limits.maxLayerBytes), layer: layer.digest, maxEntries: limits.maxEntries)
        }
        return tree
    }

    public func protect(_ image: Image, request: ProtectRequest) throws -> ProtectedImage {
        if let policy = request.policy {
            var p = Policy()
            do { try PolicyLoader.apply(policy, to: &p) } catch {
                throw ContainerError(String(decoding: error.render(file: Bytes("policy".utf8)), as: UTF8.self))
            }
        }
        if let mode = request.mode, mode != "enforce" && mode != "audit" {
            throw ContainerError("--mode must be enforce or audit, not \(mode)")
        }
        var run = image.runtimeConfig
        var labels = run["Labels"] as? [String: Any] ?? [:]
        if labels[KitsunePaths.labelProtected] != nil { throw ContainerError("the image is already protected by Kitsune (label \(KitsunePaths.labelProtected))") }
        let tree = try flatten(image)
        if tree.nodes[".kitsune"] != nil { throw ContainerError("the image already holds /.kitsune; refusing to overwrite it") }
        let entrypoint = run["Entrypoint"] as? [String] ?? []
        let cmd = run["Cmd"] as? [String] ?? []
        guard let program = (entrypoint.isEmpty ? cmd : entrypoint).first, !program.isEmpty else {
            throw ContainerError("the image has neither an Entrypoint nor a Cmd: nothing to protect")
        }
        let env = run["Env"] as? [String] ?? []
        let resolved = Self.resolveProgram(program, env: env, in: tree)

        let manifest = ContainerManifest.build(tree)
        let policyText = request.policy ?? Array("version: 1\n".utf8)
        var tar = TarWriter()
        tar.directory(".kitsune", mode: 0o755)
        tar.file(".kitsune/kitsune-enforcer", contents: request.enforcer, mode: 0o755)
        if let ship = request.ship { tar.file(".kitsune/kitsune-ship", contents: ship, mode: 0o755) }
        tar.file(".kitsune/manifest.json", contents: [UInt8](manifest.jsonData()), mode: 0o644)
        tar.file(".kitsune/policy.yaml", contents: policyText, mode: 0o644)
        let layerTar = tar.finish()
        let layerBlob = try Compression.gzip(layerTar)

        var wrapper = [KitsunePaths.enforcer, "--policy", KitsunePaths.policy, "--manifest", KitsunePaths.manifest]
        if let mode = request.mode { wrapper += ["--mode", mode] }
        wrapper.append("--")
        run["Entrypoint"] = wrapper + entrypoint
        run["Env"] = env.filter { !$0.hasPrefix("KITSUNE_IMAGE_DIGEST=") } + ["KITSUNE_IMAGE_DIGEST=\(image.sourceDigest)"]
        labels[KitsunePaths.labelProtected] = "1"
        labels[KitsunePaths.labelEntrypoint] = String(decoding: try ImageJSON.bytes(entrypoint), as: UTF8.self)
        labels[KitsunePaths.labelCommand] = resolved ?? program
        labels[KitsunePaths.labelSource] = image.sourceDigest
        run["Labels"] = labels

        var out = image
        out.runtimeConfig = run
        var rootfs = out.config["rootfs"] as? [String: Any] ?? ["type": "layers"]
        rootfs["diff_ids"] = image.diffIDs + [Digest.sha256(layerTar)]
        out.config["rootfs"] = rootfs
        var history = out.config["history"] as? [[String: Any]] ?? []
        history.append(["created": out.config["created"] as? String ?? "1970-01-01T00:00:00Z", "created_by": "kitsune image protect",
                        "comment": "kitsune-enforcer, policy and drift manifest of \(manifest.files.count) executables in /.kitsune"])
        out.config["history"] = history
        out.layers.append(ImageLayer(mediaType: MediaType.ociLayerGzip, digest: Digest.sha256(layerBlob), blob: layerBlob))
        return ProtectedImage(image: out, configBytes: try ImageJSON.bytes(out.config), kitsuneLayer: layerTar, manifest: manifest,
                              command: entrypoint.isEmpty ? cmd : entrypoint)
    }

    /// A bare program name resolved through the image's PATH, the way runc resolves process.args[0].
    static func resolveProgram(_ program: String, env: [String], in tree: LayerFlattener) -> String? {
        if program.hasPrefix("/") { return tree.canonical(String(program.dropFirst())).map { "/" + $0 } }
        let path = env.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") where dir.hasPrefix("/") {
            if let c = tree.canonical(String(dir.dropFirst()) + "/" + program), let n = tree.nodes[c], n.kind == .file, n.mode & 0o111 != 0 {
                return "/" + c
            }
        }
        return nil
    }
}
