import Foundation
import KitsuneScanner

/// `kitsune scan` of an image: every file of every layer goes through the scanner (packages,
/// advisories, secrets, forbidden executables), reported at `sha256:LAYER!/path` so each finding
/// names the layer that ships it — files deleted by a later layer included (they still ship).
public struct ImageScanner {
    public let scanner: FunctionScanner
    public var limits = ImageLimits()

    public init(scanner: FunctionScanner) { self.scanner = scanner }

    /// Whether `path` is an image the scanner should read as one (an OCI layout directory, or a tar
    /// holding `manifest.json` or `oci-layout` at its top).
    public static func looksLikeImage(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return false }
        if isDir.boolValue { return FileManager.default.fileExists(atPath: path + "/oci-layout") }
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        // The first member of a `docker save` / `podman save` / `skopeo` archive: a layer directory or
        // config named by its digest, `blobs/`, or one of the layout's own files.
        guard let head = try? h.read(upToCount: 512), head.count == 512 else { return false }
        let bytes = [UInt8](head)
        guard String(decoding: bytes[257..<262], as: UTF8.self) == "ustar" else { return false }
        let name = String(decoding: bytes[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        let first = name.split(separator: "/").first.map(String.init) ?? ""
        let hex = first.prefix(64)
        let named = hex.count == 64 && hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
        return named || ["blobs", "oci-layout", "index.json", "manifest.json", "repositories"].contains(first)
    }

    public func scan(_ path: String, progress: ((ScanProgress) -> Void)? = nil) throws -> ScanResult {
        var reader = ImageReader()
        reader.limits = limits
        let set = try reader.read(path)
        var notes = set.skipped.map { "Not scanned: \($0)" }
        var seen = Set<String>()
        for image in set.images {
            notes.append("Image \(image.names.first ?? image.sourceDigest) (\(image.platform)): \(image.layers.count) layers")
        }
        let rules = try ManifestRules.builtIn()
        return try scanner.scan(supplied: { add in
            for image in set.images {
                // Layers are applied as an engine would (hostile structure refused like `image protect` does).
                var tree = LayerFlattener(rules: rules)
                for (i, layer) in image.layers.enumerated() {
                    let tar = try image.uncompressedLayer(i, limit: limits.maxLayerBytes)
                    try tree.apply(tar: tar, layer: layer.digest, maxEntries: limits.maxEntries)
                    guard seen.insert(layer.digest).inserted else { continue }
                    for e in try TarReader.entries(tar, name: "layer \(layer.digest)", maxEntries: limits.maxEntries) where e.kind == .file {
                        try add(SuppliedFile(path: "\(layer.digest)!/\(e.path)", permissions: e.mode,
                                             bytes: Array(tar[e.dataOffset..<e.dataOffset + e.size])))
                    }
                }
            }
        }, notes: notes, progress: progress)
    }
}
