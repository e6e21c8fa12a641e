import Crypto
import Foundation

/// `sha256:HEX` content digests of blobs (swift-crypto's SHA-256, the one the scanner already uses).
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The lower-case hex of a `sha256:` digest, validated (a digest names a file in a layout: it must
    /// never carry a path).
    public static func hex(_ digest: String, in input: String) throws -> String {
        let parts = digest.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].count == 64,
              parts[1].allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else {
            throw ContainerError("\(input): unsupported or malformed digest \"\(digest.prefix(80))\" (expected sha256:<64 hex digits>)")
        }
        return String(parts[1])
    }
}

/// JSON as read and written for image documents: unknown fields are kept, output keys are sorted
/// (the same document always serializes to the same bytes, so digests are deterministic).
public enum ImageJSON {
    public static func object(_ bytes: [UInt8], name: String) throws -> [String: Any] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes)), let object = value as? [String: Any] else {
            throw ContainerError("\(name): not a JSON object")
        }
        return object
    }

    public static func array(_ bytes: [UInt8], name: String) throws -> [[String: Any]] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes)), let list = value as? [[String: Any]] else {
            throw ContainerError("\(name): not a JSON array of objects")
        }
        return list
    }

    public static func bytes(_ value: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}

/// Media types of the documents and layers Kitsune reads and writes.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    static func isIndex(_ t: String?) -> Bool { t == ociIndex || t == dockerList }
}
