import Foundation

/// Size limits for reading hostile images.
public struct ImageLimits: Sendable {
    /// A JSON document (index, manifest, config).
    public var maxDocumentBytes = 8 << 20
    /// One layer, uncompressed.
    public var maxLayerBytes = 8 << 30
    /// Entries of one layer.
    public var maxEntries = 1_000_000

    public init() {}
}

/// Reads an image from an OCI layout directory, an OCI archive, or a docker-archive tarball.
public struct ImageReader {
    public var limits = ImageLimits()
    /// `linux/amd64` on x86_64: the platforms Kitsune has an enforcer for.
    public var platforms: [String] = [ImageReader.hostPlatform]
    /// Only the manifest tagged with this `org.opencontainers.image.ref.name` (OCI layouts).
    public var reference: String?

    public init() {}

    public static var hostPlatform: String {
        #if arch(arm64)
        return "linux/arm64"
        #else
        return "linux/amd64"
        #endif
    }

    /// Read `path` (a directory is an OCI layout; a file is a tar of either kind).
    public func read(_ path: String) throws -> ImageSet {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ContainerError("\(path): no such file or directory")
        }
        if isDir.boolValue {
            return try readLayout(name: path, format: .oci) { relative in try Self.readRegularFile(path + "/" + relative, limit: limits.maxLayerBytes) }
        }
        let bytes = try Self.readRegularFile(path, limit: Int.max)!
        let entries = try TarReader.entries(bytes, name: path, maxEntries: limits.maxEntries)
        var files: [String: TarEntry] = [:]
        for e in entries where e.kind == .file { files[e.path] = e }
        let lookup: (String) throws -> [UInt8]? = { relative in
            let key = try TarReader.normalize(relative, archive: path, what: "member")
            guard let e = files[key] else { return nil }
            return Array(bytes[e.dataOffset..<e.dataOffset + e.size])
        }
        if files["manifest.json"] != nil { return try readDockerArchive(name: path, lookup) }
        if files["oci-layout"] != nil { return try readLayout(name: path, format: .ociArchive, lookup) }
        throw ContainerError("\(path): neither a docker-archive (no manifest.json) nor an OCI archive (no oci-layout)")
    }

    // MARK: - OCI layout

    func readLayout(name: String, format: ImageFormat, _ lookup: (String) throws -> [UInt8]?) throws -> ImageSet {
        guard let layout = try lookup("oci-layout") else { throw ContainerError("\(name): no oci-layout file (not an OCI image layout)") }
        let version = try ImageJSON.object(layout, name: "\(name)/oci-layout")["imageLayoutVersion"] as? String
        guard version == "1.0.0" else { throw ContainerError("\(name)/oci-layout: unsupported imageLayoutVersion \(version ?? "missing")") }
        guard let indexBytes = try lookup("index.json") else { throw ContainerError("\(name): no index.json") }
        let index = try ImageJSON.object(indexBytes, name: "\(name)/index.json")
        var images: [Image] = []
        var skipped: [String] = []
        func blob(_ d: [String: Any], _ limit: Int) throws -> [UInt8] { try self.blob(d, name: name, limit: limit, lookup) }
        func visit(_ descriptors: [[String: Any]], depth: Int, inherited: String?) throws {
            for d in descriptors {
                let ref = (d["annotations"] as? [String: Any])?["org.opencontainers.image.ref.name"] as? String ?? inherited
                let type = d["mediaType"] as? String
                if MediaType.isIndex(type) {
                    guard depth < 3 else { throw ContainerError("\(name): image indexes nested too deep") }
                    let nested = try ImageJSON.object(try blob(d, limits.maxDocumentBytes), name: "\(name): index \(d["digest"] ?? "")")
                    try visit(nested["manifests"] as? [[String: Any]] ?? [], depth: depth + 1, inherited: ref)
                    continue
                }
                if let reference, ref != reference && !(ref.map { reference.hasSuffix(":" + $0) } ?? false) { continue }
                let manifestBytes = try blob(d, limits.maxDocumentBytes)
                let manifest = try ImageJSON.object(manifestBytes, name: "\(name): manifest \(d["digest"] ?? "")")
                guard let configDesc = manifest["config"] as? [String: Any] else {
                    throw ContainerError("\(name): manifest \(d["digest"] ?? "") has no config")
                }
                let config = try ImageJSON.object(try blob(configDesc, limits.maxDocumentBytes), name: "\(name): config")
                let platform = Self.platform(of: config)
                guard platforms.contains(platform) else {
                    skipped.append("\(platform): no kitsune-enforcer for this platform in this build")
                    continue
                }
                var layers: [ImageLayer] = []
                for l in manifest["layers"] as? [[String: Any]] ?? [] {
                    let type = l["mediaType"] as? String ?? MediaType.ociLayer
                    if type.hasSuffix("+zstd") { throw ContainerError("\(name): layer \(l["digest"] ?? "") is zstd-compressed; this build reads gzip and uncompressed layers only") }
                    layers.append(ImageLayer(mediaType: type, digest: l["digest"] as? String ?? "", blob: try blob(l, limits.maxLayerBytes)))
                }
                images.append(Image(config: config, layers: layers, platform: platform, names: ref.map { [$0] } ?? [],
                                    sourceDigest: Digest.sha256(manifestBytes), annotations: manifest["annotations"] as? [String: Any] ?? [:]))
            }
        }
        try visit(index["manifests"] as? [[String: Any]] ?? [], depth: 0, inherited: nil)
        return try finish(ImageSet(format: format, images: images, skipped: skipped), name: name)
    }

    /// A blob by descriptor, verified against its digest and size.
    func blob(_ d: [String: Any], name: String, limit: Int, _ lookup: (String) throws -> [UInt8]?) throws -> [UInt8] {
        let digest = d["digest"] as? String ?? ""
        let hex = try Digest.hex(digest, in: name)
        guard let bytes = try lookup("blobs/sha256/" + hex) else { throw ContainerError("\(name): blob \(digest) is missing") }
        guard bytes.count <= limit else { throw ContainerError("\(name): blob \(digest) is \(bytes.count) bytes, beyond the limit of \(limit)") }
        if let size = d["size"] as? Int, size != bytes.count {
            throw ContainerError("\(name): blob \(digest) is \(bytes.count) bytes but its descriptor says \(size)")
        }
        guard Digest.sha256(bytes) == digest else { throw ContainerError("\(name): blob \(digest) does not match its digest") }
        return bytes
    }

    // MARK: - docker-archive

    func readDockerArchive(name: String, _ lookup: (String) throws -> [UInt8]?) throws -> ImageSet {
        let list = try ImageJSON.array(try lookup("manifest.json")!, name: "\(name): manifest.json")
        var images: [Image] = []
        var skipped: [String] = []
        for item in list {
            guard let configPath = item["Config"] as? String, let layerPaths = item["Layers"] as? [String] else {
                throw ContainerError("\(name): manifest.json entry without Config or Layers")
            }
            guard let configBytes = try lookup(configPath) else { throw ContainerError("\(name): config \(configPath) is missing") }
            let config = try ImageJSON.object(configBytes, name: "\(name): \(configPath)")
            let platform = Self.platform(of: config)
            guard platforms.contains(platform) else { skipped.append("\(platform): no kitsune-enforcer for this platform in this build"); continue }
            var layers: [ImageLayer] = []
            for p in layerPaths {
                guard let blob = try lookup(p) else { throw ContainerError("\(name): layer \(p) is missing") }
                let type = Compression.sniff(Array(blob.prefix(4))) == .gzip ? MediaType.ociLayerGzip : MediaType.ociLayer
                layers.append(ImageLayer(mediaType: type, digest: Digest.sha256(blob), blob: blob))
            }
            images.append(Image(config: config, layers: layers, platform: platform, names: item["RepoTags"] as? [String] ?? [],
                                sourceDigest: Digest.sha256(configBytes)))
        }
        return try finish(ImageSet(format: .dockerArchive, images: images, skipped: skipped), name: name)
    }

    func finish(_ set: ImageSet, name: String) throws -> ImageSet {
        guard !set.images.isEmpty else {
            let why = set.skipped.isEmpty ? (reference.map { "no image tagged \($0)" } ?? "no image") : set.skipped.joined(separator: "; ")
            throw ContainerError("\(name): nothing to read (\(why))")
        }
        for image in set.images where image.diffIDs.count != image.layers.count {
            throw ContainerError("\(name): \(image.layers.count) layers but \(image.diffIDs.count) rootfs.diff_ids in the config")
        }
        return set
    }

    static func platform(of config: [String: Any]) -> String {
        let os = config["os"] as? String ?? "linux"
        var arch = config["architecture"] as? String ?? "amd64"
        if arch == "x86_64" { arch = "amd64" }
        if arch == "aarch64" { arch = "arm64" }
        return "\(os)/\(arch)"
    }

    /// The contents of a regular file (never through a symlink: a layout is hostile input), nil when absent.
    static func readRegularFile(_ path: String, limit: Int) throws -> [UInt8]? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ContainerError("\(path): not a regular file") }
        guard Int(st.st_size) <= limit else { throw ContainerError("\(path): \(st.st_size) bytes, beyond the limit of \(limit)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ContainerError("\(path): cannot be read") }
        return [UInt8](data)
    }
}
