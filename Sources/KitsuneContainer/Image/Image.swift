import Foundation

/// The formats an image is read from and written to.
public enum ImageFormat: String, Sendable, CaseIterable {
    /// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`).
    case oci
    /// An OCI image layout in a tar file (`skopeo copy … oci-archive:`).
    case ociArchive = "oci-archive"
    /// `docker save` / `podman save`: `manifest.json` with `Config`, `RepoTags`, `Layers`.
    case dockerArchive = "docker-archive"
}

/// One layer: the blob as stored (compressed or not) and its media type.
public struct ImageLayer {
    public var mediaType: String
    /// `sha256:` of the blob as stored.
    public var digest: String
    public var blob: [UInt8]

    public init(mediaType: String, digest: String, blob: [UInt8]) {
        self.mediaType = mediaType; self.digest = digest; self.blob = blob
    }
}

/// One platform's image: config, layers, names.
public struct Image {
    /// The image config (`config.Entrypoint`, `rootfs.diff_ids`, …) with every field kept.
    public var config: [String: Any]
    public var layers: [ImageLayer]
    /// `os/architecture[/variant]`.
    public var platform: String
    /// Names (`repo:tag`) from `RepoTags` or the OCI `org.opencontainers.image.ref.name` annotation.
    public var names: [String]
    /// Digest of the source's manifest (for a docker-archive: of its config), for events and labels.
    public var sourceDigest: String
    /// Annotations of the OCI manifest, kept.
    public var annotations: [String: Any] = [:]

    public init(config: [String: Any], layers: [ImageLayer], platform: String, names: [String], sourceDigest: String,
                annotations: [String: Any] = [:]) {
        self.config = config; self.layers = layers; self.platform = platform; self.names = names
        self.sourceDigest = sourceDigest; self.annotations = annotations
    }

    /// `rootfs.diff_ids`.
    public var diffIDs: [String] { ((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String]) ?? [] }

    /// The uncompressed tar of layer `index`, verified against its `diff_id`.
    public func uncompressedLayer(_ index: Int, limit: Int) throws -> [UInt8] {
        let layer = layers[index]
        let tar = try Compression.decompress(layer.blob, name: "layer \(layer.digest)", limit: limit)
        guard Digest.sha256(tar) == diffIDs[index] else {
            throw ContainerError("layer \(layer.digest): its uncompressed contents do not match rootfs.diff_ids[\(index)] \(diffIDs[index])")
        }
        return tar
    }

    /// The runtime part of the config (`Entrypoint`, `Cmd`, `Env`, `WorkingDir`, `User`, `Labels`).
    public var runtimeConfig: [String: Any] {
        get { config["config"] as? [String: Any] ?? [:] }
        set { config["config"] = newValue }
    }
}

/// What was read: the images (one per platform) and what was left out.
public struct ImageSet {
    public var format: ImageFormat
    public var images: [Image]
    /// Platforms of the source index that were not read, with why.
    public var skipped: [String]
}
