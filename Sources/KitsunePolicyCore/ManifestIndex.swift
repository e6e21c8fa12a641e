// The enforcer's view of a drift manifest (the JSON written by `kitsune manifest`): absolute path →
// expected size and SHA-256.

/// One expected file.
public struct ManifestRecord {
    public let sha256: Bytes
    public let size: Int
}

/// Manifest entries by absolute path.
public struct ManifestIndex {
    /// Where the inventoried package lives (normalized absolute path).
    public let root: Bytes
    public private(set) var records: [Bytes: ManifestRecord] = [:]

    /// Parse the manifest JSON. Errors name the line and the field.
    public static func parse(_ source: Bytes) throws(PolicyError) -> ManifestIndex {
        let node: DataNode
        do { node = try JSONReader.parse(source) } catch {
            throw PolicyError(line: error.line, field: [], message: error.message)
        }
        guard case .map(let top, _) = node else {
            throw PolicyError(line: node.line, field: [], message: Bytes(literal: "a manifest is a JSON object"))
        }
        var root: Bytes?
        var files: [DataNode] = []
        var version: Bytes?
        for e in top {
            if e.key == Bytes(literal: "root"), case .scalar(let v, _) = e.value { root = v }
            else if e.key == Bytes(literal: "files"), case .list(let items, _) = e.value { files = items }
            else if e.key == Bytes(literal: "version"), case .scalar(let v, _) = e.value { version = v }
        }
        guard version == [49] else {
            throw PolicyError(line: node.line, field: Bytes(literal: "version"), message: Bytes(literal: "missing or unknown manifest version (expected 1)"))
        }
        guard let rootPath = root, rootPath.first == 47 else {
            throw PolicyError(line: node.line, field: Bytes(literal: "root"), message: Bytes(literal: "missing or not an absolute path"))
        }
        var index = ManifestIndex(root: Path.normalize(rootPath))
        for item in files {
            guard case .map(let fields, let line) = item else {
                throw PolicyError(line: item.line, field: Bytes(literal: "files"), message: Bytes(literal: "each file is an object"))
            }
            var path: Bytes?, digest: Bytes?, size: Int?
            for f in fields {
                guard case .scalar(let v, _) = f.value else { continue }
                if f.key == Bytes(literal: "path") { path = v }
                else if f.key == Bytes(literal: "sha256") { digest = parseHex(v) }
                else if f.key == Bytes(literal: "size") { size = v.decimalValue() }
            }
            guard let p = path, !p.isEmpty, p.first != 47 else {
                throw PolicyError(line: line, field: Bytes(literal: "path"), message: Bytes(literal: "missing or absolute (paths are relative to root)"))
            }
            guard let d = digest, d.count == 32 else {
                throw PolicyError(line: line, field: Bytes(literal: "sha256"), message: Bytes(literal: "missing or not 64 hexadecimal digits"))
            }
            guard let s = size else {
                throw PolicyError(line: line, field: Bytes(literal: "size"), message: Bytes(literal: "missing or not a whole number"))
            }
            let absolute = Path.join(index.root, p)
            guard Path.isBeneath(absolute, index.root) else {
                throw PolicyError(line: line, field: Bytes(literal: "path"), message: Bytes(literal: "escapes the manifest root"))
            }
            index.records[absolute] = ManifestRecord(sha256: d, size: s)
        }
        return index
    }

    init(root: Bytes) { self.root = root }

    /// Whether `path` is governed by this manifest.
    public func covers(_ path: Bytes) -> Bool { Path.isBeneath(path, root) }

    /// The record of `path`, if listed.
    public func record(_ path: Bytes) -> ManifestRecord? { records[path] }
}
