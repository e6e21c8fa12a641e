import Foundation

/// A directory of runtime policies kept in git (`*.yaml` / `*.yml`, one policy a file), and what it
/// takes to make a server's policies equal to it.
public enum PolicyDirectory {
    /// A policy and the file it came from.
    public struct Entry: Sendable {
        public var file: String
        public var policy: RuntimePolicy
    }

    /// A file that does not hold a valid policy: the message names the file and line.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every policy of `path`, validated; two files with one name are refused.
    public static func load(_ path: String) throws -> [Entry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(description: "\(path): not a directory of policy files")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var entries: [Entry] = [], seen: [String: String] = [:]
        for name in names {
            let file = (path as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw Failure(description: "\(file): cannot read it as UTF-8 text")
            }
            let policy: RuntimePolicy
            do { policy = try RuntimePolicy(yaml: text) } catch {
                throw Failure(description: "\(file):\(error.line > 0 ? "\(error.line):" : "") \(error.field.isEmpty ? "" : "\(error.field): ")\(error.message)")
            }
            if let other = seen[policy.name] { throw Failure(description: "\(file): policy \(policy.name) is also defined in \(other)") }
            seen[policy.name] = file
            entries.append(Entry(file: file, policy: policy))
        }
        return entries
    }

    /// A file name for a policy when exporting.
    public static func fileName(for policy: String) -> String { policy + ".yaml" }
}

/// The changes that make a server's policies (`remote`: name → current document and id) equal the
/// local ones.
public struct PolicySyncPlan: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        case create(name: String, document: String)
        case update(name: String, id: String, document: String)
        case delete(name: String, id: String)
    }

    public var changes: [Change] = []
    public var unchanged: [String] = []

    public init(local: [RuntimePolicy], remote: [(name: String, id: String, document: String)]) {
        let remoteByName = Dictionary(remote.map { ($0.name, $0) }) { a, _ in a }
        let localNames = Set(local.map(\.name))
        for policy in local.sorted(by: { $0.name < $1.name }) {
            if let existing = remoteByName[policy.name] {
                if existing.document == policy.document { unchanged.append(policy.name) }
                else { changes.append(.update(name: policy.name, id: existing.id, document: policy.document)) }
            } else {
                changes.append(.create(name: policy.name, document: policy.document))
            }
        }
        for existing in remote.sorted(by: { $0.name < $1.name }) where !localNames.contains(existing.name) {
            changes.append(.delete(name: existing.name, id: existing.id))
        }
    }
}
