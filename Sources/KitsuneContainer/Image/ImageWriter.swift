import Foundation
import KitsuneFindings

/// Writes images as an OCI layout directory, an OCI archive or a docker-archive tarball. Outputs are
/// deterministic, and never half-written: a directory is assembled beside its destination and renamed
/// into place, a tarball is written atomically.
public struct ImageWriter {
    public var limits = ImageLimits()

    public init() {}

    /// The OCI layout files (`oci-layout`, `index.json`, `blobs/sha256/…`) for `images`.
    public func layoutFiles(_ images: [(image: Image, config: [UInt8])]) throws -> [(String, [UInt8])] {
        var blobs: [String: [UInt8]] = [:]
        var descriptors: [[String: Any]] = []
        for (image, config) in images {
            let configDigest = Digest.sha256(config)
            blobs[configDigest] = config
            var layers: [[String: Any]] = []
            for l in image.layers {
                blobs[l.digest] = l.blob
                layers.append(["mediaType": l.mediaType, "digest": l.digest, "size": l.blob.count])
            }
            var manifest: [String: Any] = [
                "schemaVersion": 2, "mediaType": MediaType.ociManifest,
                "config": ["mediaType": MediaType.ociConfig, "digest": configDigest, "size": config.count], "layers": layers]
            if !image.annotations.isEmpty { manifest["annotations"] = image.annotations }
            let manifestBytes = try ImageJSON.bytes(manifest)
            let digest = Digest.sha256(manifestBytes)
            blobs[digest] = manifestBytes
            let parts = image.platform.split(separator: "/").map(String.init)
            var d: [String: Any] = ["mediaType": MediaType.ociManifest, "digest": digest, "size": manifestBytes.count,
                                    "platform": ["os": parts.first ?? "linux", "architecture": parts.count > 1 ? parts[1] : "amd64"]]
            if let name = image.names.first {
                let tag = name.split(separator: ":").last.map(String.init) ?? name
                d["annotations"] = ["org.opencontainers.image.ref.name": tag]
            }
            descriptors.append(d)
        }
        var files: [(String, [UInt8])] = [("oci-layout", Array("{\"imageLayoutVersion\":\"1.0.0\"}".utf8))]
        files.append(("index.json", try ImageJSON.bytes(["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": descriptors])))
        for digest in blobs.keys.sorted() { files.append(("blobs/sha256/" + (try Digest.hex(digest, in: "output")), blobs[digest]!)) }
        return files
    }

    /// The files of a docker-archive (`docker save` layout: `HEX.json`, `HEX/layer.tar`, `manifest.json`);
    /// layers are stored uncompressed, as `docker save` does, so each one's digest is its diff_id.
    public func dockerArchiveFiles(_ images: [(image: Image, config: [UInt8])]) throws -> [(String, [UInt8])] {
        var files: [String: [UInt8]] = [:]
        var entries: [[String: Any]] = []
        for (image, config) in images {
            let configName = try Digest.hex(Digest.sha256(config), in: "output") + ".json"
            files[configName] = config
            var layerNames: [String] = []
            for (i, l) in image.layers.enumerated() {
                let tar = try Compression.decompress(l.blob, name: "layer \(l.digest)", limit: limits.maxLayerBytes)
                let name = try Digest.hex(image.diffIDs[i], in: "output") + "/layer.tar"
                files[name] = tar
                layerNames.append(name)
            }
            entries.append(["Config": configName, "RepoTags": image.names, "Layers": layerNames])
        }
        files["manifest.json"] = try ImageJSON.bytes(entries)
        return files.keys.sorted().map { ($0, files[$0]!) }
    }

    /// Write `images` at `path` in `format`.
    public func write(_ images: [(image: Image, config: [UInt8])], format: ImageFormat, to path: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) && format == .oci {
            throw ContainerError("\(path): already exists; refusing to overwrite an image layout")
        }
        switch format {
        case .oci:
            let parent = (path as NSString).deletingLastPathComponent
            let staging = (parent.isEmpty ? "." : parent) + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
            try? fm.removeItem(atPath: staging)
            do {
                for (name, bytes) in try layoutFiles(images) {
                    let full = staging + "/" + name
                    try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    guard fm.createFile(atPath: full, contents: Data(bytes)) else { throw ContainerError("\(full): cannot be written") }
                }
                try fm.moveItem(atPath: staging, toPath: path)
            } catch {
                try? fm.removeItem(atPath: staging)
                throw error is ContainerError ? error : ContainerError("\(path): \(error.localizedDescription)")
            }
        case .ociArchive, .dockerArchive:
            let files = format == .ociArchive ? try layoutFiles(images) : try dockerArchiveFiles(images)
            var tar = TarWriter()
            var dirs = Set<String>()
            for (name, bytes) in files {
                let parts = name.split(separator: "/").dropLast()
                var current = ""
                for p in parts {
                    current += (current.isEmpty ? "" : "/") + p
                    if dirs.insert(current).inserted { tar.directory(current) }
                }
                tar.file(name, contents: bytes)
            }
            do { try AtomicFile.write(Data(tar.finish()), to: path) } catch { throw ContainerError("\(error)") }
        }
    }
}
