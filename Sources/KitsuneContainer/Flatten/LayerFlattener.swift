import Crypto
import Foundation

/// One path of a flattened image.
public struct FlatNode: Sendable {
    public enum Kind: Sendable { case file, directory, symlink, other }
    public var kind: Kind
    public var mode: UInt32
    public var size: Int
    public var linkTarget: String
    /// Executable content (ELF, `#!`, executable bit, interpreter source), with its SHA-256 (hex).
    public var executable: (kind: String, sha256: String)?
    /// Digest of the layer that last wrote this path.
    public var layer: String
}

/// The root file system an image's layers produce, applied in order the way container engines
/// extract them (OCI image spec, "Applying Changesets"): whiteouts `.wh.NAME` delete, an opaque
/// marker `.wh..wh..opq` hides what lower layers put in a directory, hard links copy their target,
/// and parent directories resolve through symlinks inside the root.
public struct LayerFlattener {
    public private(set) var nodes: [String: FlatNode] = ["": FlatNode(kind: .directory, mode: 0o755, size: 0, linkTarget: "", executable: nil, layer: "")]
    let rules: ManifestRules

    public init(rules: ManifestRules) { self.rules = rules }

    /// Apply one layer's uncompressed tar. `layer` names it in errors and node origins.
    public mutating func apply(tar bytes: [UInt8], layer: String, maxEntries: Int) throws {
        let entries = try TarReader.entries(bytes, name: "layer \(layer)", maxEntries: maxEntries)
        var addedHere = Set<String>()
        for e in entries {
            let name = e.path.split(separator: "/").last.map(String.init) ?? ""
            let parentRaw = e.path.split(separator: "/").dropLast().joined(separator: "/")
            let parent = try resolve(parentRaw, followLast: true, entry: e.path, layer: layer)
            if let pnode = nodes[parent], pnode.kind != .directory {
                throw ContainerError("layer \(layer): entry \(e.path): its parent \(parent) is not a directory")
            }
            if name == ".wh..wh..opq" {
                removeChildren(of: parent, keeping: addedHere)
                continue
            }
            if name.hasPrefix(".wh.") {
                remove(join(parent, String(name.dropFirst(4))))
                continue
            }
            let path = join(parent, name)
            if path.isEmpty { continue }                       // the root directory itself
            ensureDirectories(parent, layer: layer)
            addedHere.insert(path)
            switch e.kind {
            case .directory:
                if nodes[path]?.kind != .directory { remove(path) }
                nodes[path] = FlatNode(kind: .directory, mode: e.mode, size: 0, linkTarget: "", executable: nil, layer: layer)
            case .file:
                remove(path)
                let data = bytes[e.dataOffset..<e.dataOffset + e.size]
                nodes[path] = FlatNode(kind: .file, mode: e.mode, size: e.size, linkTarget: "",
                                       executable: rules.classify(path: path, mode: e.mode, contents: data), layer: layer)
            case .symlink:
                remove(path)
                nodes[path] = FlatNode(kind: .symlink, mode: 0o777, size: 0, linkTarget: e.linkTarget, executable: nil, layer: layer)
            case .hardlink:
                let target = try resolve(e.linkTarget, followLast: false, entry: e.path, layer: layer)
                guard var node = nodes[target], node.kind == .file else {
                    throw ContainerError("layer \(layer): hard link \(e.path) refers to \(e.linkTarget), which is not a regular file of the image")
                }
                remove(path)
                node.layer = layer
                if rules.isExcluded(path) { node.executable = nil }
                nodes[path] = node
            case .other:
                remove(path)
                nodes[path] = FlatNode(kind: .other, mode: e.mode, size: 0, linkTarget: "", executable: nil, layer: layer)
            }
        }
    }

    /// Resolve a relative path inside the root, following symlinks of the tree (all components, or all
    /// but the last). A symlink that climbs above the root is refused: a layer that writes through one
    /// is hostile.
    public func resolve(_ path: String, followLast: Bool, entry: String, layer: String) throws -> String {
        var out: [String] = []
        var queue = path.split(separator: "/").map(String.init)
        var index = 0
        var hops = 0
        while index < queue.count {
            let c = queue[index]
            index += 1
            if c == "." || c.isEmpty { continue }
            if c == ".." {
                guard !out.isEmpty else {
                    throw ContainerError("layer \(layer): entry \(entry) resolves through a symlink to outside the image root; refusing")
                }
                out.removeLast()
                continue
            }
            out.append(c)
            let isLast = index == queue.count
            if let n = nodes[out.joined(separator: "/")], n.kind == .symlink, followLast || !isLast {
                hops += 1
                guard hops <= 40 else { throw ContainerError("layer \(layer): entry \(entry): too many levels of symlinks") }
                out.removeLast()
                if n.linkTarget.hasPrefix("/") { out = [] }
                queue = n.linkTarget.split(separator: "/").map(String.init) + queue[index...]
                index = 0
            }
        }
        return out.joined(separator: "/")
    }

    /// Canonical path of an existing path (symlinks followed), nil when it escapes or is missing.
    public func canonical(_ path: String) -> String? {
        guard let p = try? resolve(path, followLast: true, entry: path, layer: "") else { return nil }
        return nodes[p] == nil ? nil : p
    }

    func join(_ parent: String, _ name: String) -> String { parent.isEmpty ? name : parent + "/" + name }

    mutating func ensureDirectories(_ path: String, layer: String) {
        var current = ""
        for c in path.split(separator: "/") {
            current = join(current, String(c))
            if nodes[current] == nil { nodes[current] = FlatNode(kind: .directory, mode: 0o755, size: 0, linkTarget: "", executable: nil, layer: layer) }
        }
    }

    mutating func remove(_ path: String) {
        guard let node = nodes.removeValue(forKey: path), node.kind == .directory else { return }
        removeChildren(of: path, keeping: [])
    }

    mutating func removeChildren(of dir: String, keeping: Set<String>) {
        let prefix = dir.isEmpty ? "" : dir + "/"
        for key in nodes.keys where !key.isEmpty && key.hasPrefix(prefix) && key != dir && !keeping.contains(key) {
            nodes.removeValue(forKey: key)
        }
    }
}
