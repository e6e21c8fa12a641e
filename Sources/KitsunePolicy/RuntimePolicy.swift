import Foundation
import KitsunePolicyCore

/// A mistake in a runtime policy document: the field (dotted path) and line at fault.
public struct RuntimePolicyError: Error, CustomStringConvertible, Equatable, Sendable {
    public var field: String
    public var line: Int
    public var message: String

    public init(field: String, line: Int = 0, _ message: String) {
        self.field = field
        self.line = line
        self.message = message
    }

    public var description: String {
        (line > 0 ? "line \(line): " : "") + (field.isEmpty ? "" : "\(field): ") + message
    }
}

/// A runtime policy as the control plane keeps it: the enforcer's policy document plus `name`,
/// `scope` and `priority`, e.g.
/// ```yaml
/// name: web-api
/// mode: enforce            # audit | enforce | learn
/// priority: 10
/// scope:
///   tags: ["kitsune=enabled"]
/// block: [xmrig*]
/// ```
/// Everything but `name`, `priority` and `scope` is the enforcer's own format, checked by the
/// enforcer's own parser (``PolicyLoader``): what the server accepts is what the layer will load.
public struct RuntimePolicy: Sendable, Equatable {
    /// How the enforcer acts on what the policy forbids.
    public enum Mode: String, Sendable, CaseIterable {
        case audit, enforce, learn
    }

    public var name: String
    public var mode: Mode
    public var priority: Int
    public var scope: PolicyScope
    /// `promote_after: Nd` (audit policies only): the control plane promotes the policy to enforce
    /// once its current version has been in force N days without a violation.
    public var promoteAfterDays: Int?
    /// The document as the user wrote it (what versions store and diffs compare).
    public var document: String
    /// The enforcer's part of the document: `name`, `priority` and `scope` blanked out, line numbers
    /// kept. This is the `policy.yaml` baked into the layer.
    public var enforcerPolicy: String

    /// Names: what URLs, files and layer descriptions can carry unquoted.
    public static func checkName(_ name: String) throws(RuntimePolicyError) {
        guard (1...64).contains(name.utf8.count),
              name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || $0 == 46 }),
              name.first != "." else {
            throw RuntimePolicyError(field: "name", "'\(name.prefix(80))' must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
    }

    /// The largest document accepted.
    public static let maxDocumentBytes = 64 * 1024

    /// Parses and validates a YAML document.
    public init(yaml document: String) throws(RuntimePolicyError) {
        let bytes = Array(document.utf8)
        guard bytes.count <= Self.maxDocumentBytes else { throw RuntimePolicyError(field: "", "the document is over \(Self.maxDocumentBytes / 1024) KB") }
        guard !bytes.contains(0) else { throw RuntimePolicyError(field: "", "the document contains a NUL byte") }
        let root: DataNode
        do { root = try YAMLSubsetReader.parse(bytes) } catch {
            throw RuntimePolicyError(field: "", line: error.line, String(decoding: error.message, as: UTF8.self))
        }
        guard case .map(let entries, _) = root else { throw RuntimePolicyError(field: "", line: root.line, "a policy is a mapping of settings") }
        var name: String?, mode: Mode?, priority = 0, scope: PolicyScope?, promoteAfter: Int?
        var blanked = Set<Int>()
        let starts = entries.map(\.line).sorted()
        let total = document.split(separator: "\n", omittingEmptySubsequences: false).count
        func lines(of entry: DataEntry) -> Range<Int> {
            let next = starts.first { $0 > entry.line } ?? total + 1
            return entry.line..<next
        }
        var seen = Set<String>()
        for entry in entries {
            let key = String(decoding: entry.key, as: UTF8.self)
            guard seen.insert(key).inserted else { throw RuntimePolicyError(field: key, line: entry.line, "given twice") }
            switch key {
            case "name":
                let value = try Self.scalar(entry, key)
                try Self.checkName(value)
                name = value
            case "priority":
                guard let value = Int(try Self.scalar(entry, key)), (-1000...1000).contains(value) else {
                    throw RuntimePolicyError(field: "priority", line: entry.line, "expected a whole number from -1000 to 1000")
                }
                priority = value
            case "scope": scope = try Self.scope(entry)
            case "promote_after":
                let text = try Self.scalar(entry, key)
                guard text.hasSuffix("d"), let days = Int(text.dropLast()), (1...365).contains(days) else {
                    throw RuntimePolicyError(field: "promote_after", line: entry.line, "expected a number of days such as 14d (1d to 365d)")
                }
                promoteAfter = days
            case "mode":
                guard let value = Mode(rawValue: try Self.scalar(entry, key)) else {
                    throw RuntimePolicyError(field: "mode", line: entry.line, "expected audit, enforce or learn")
                }
                mode = value
                continue        // the enforcer reads it too
            default: continue
            }
            blanked.formUnion(lines(of: entry))
        }
        guard let name else { throw RuntimePolicyError(field: "name", "required") }
        guard let mode else { throw RuntimePolicyError(field: "mode", "required: audit, enforce or learn") }
        if promoteAfter != nil, mode != .audit { throw RuntimePolicyError(field: "promote_after", "only an audit policy is promoted (to enforce)") }
        guard let scope, !scope.isEmpty else {
            throw RuntimePolicyError(field: "scope", "required, with at least one of \(PolicyScope.fields.joined(separator: ", ")) (functions: [\"*\"] covers every function)")
        }
        var number = 0
        let enforcerText = document.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            number += 1
            return blanked.contains(number) ? "" : line
        }.joined(separator: "\n")
        var policy = Policy()
        do { try PolicyLoader.apply(Array(enforcerText.utf8), to: &policy) } catch {
            throw RuntimePolicyError(field: String(decoding: error.field, as: UTF8.self), line: error.line, String(decoding: error.message, as: UTF8.self))
        }
        self.name = name
        self.mode = mode
        self.priority = priority
        self.scope = scope
        self.promoteAfterDays = promoteAfter
        self.document = document
        self.enforcerPolicy = enforcerText
    }

    /// The `policy.yaml` for a layer: the enforcer part of this policy, then every top-level setting of
    /// `base` (Kitsune's Lambda defaults: package roots, honeypots) that the policy does not set itself,
    /// so a policy that only says `block: [xmrig*]` still knows where the function's code lives.
    public func layerPolicy(base: String) throws(RuntimePolicyError) -> String {
        let own = Set(Self.topLevel(enforcerPolicy).map(\.key))
        let baseLines = base.split(separator: "\n", omittingEmptySubsequences: false)
        var out = enforcerPolicy
        if !out.hasSuffix("\n") { out += "\n" }
        let added = Self.topLevel(base).filter { !own.contains($0.key) && $0.key != "version" }
        if !added.isEmpty {
            out += "# Kitsune's Lambda defaults for what this policy does not set:\n"
            for entry in added {
                out += baseLines[(entry.lines.lowerBound - 1)..<min(entry.lines.upperBound - 1, baseLines.count)].joined(separator: "\n") + "\n"
            }
        }
        var policy = Policy()
        do { try PolicyLoader.apply(Array(out.utf8), to: &policy) } catch {
            throw RuntimePolicyError(field: String(decoding: error.field, as: UTF8.self), line: error.line, "with the layer's defaults: " + String(decoding: error.message, as: UTF8.self))
        }
        return out
    }

    /// The top-level keys of a YAML-subset document and the 1-based line ranges they span.
    static func topLevel(_ text: String) -> [(key: String, lines: Range<Int>)] {
        guard case .map(let entries, _)? = try? YAMLSubsetReader.parse(Array(text.utf8)) else { return [] }
        let total = text.split(separator: "\n", omittingEmptySubsequences: false).count
        let starts = entries.map(\.line).sorted()
        return entries.map { entry in
            let next = starts.first { $0 > entry.line } ?? total + 1
            return (String(decoding: entry.key, as: UTF8.self), entry.line..<next)
        }
    }

    private static func scalar(_ entry: DataEntry, _ field: String) throws(RuntimePolicyError) -> String {
        guard case .scalar(let value, _) = entry.value else { throw RuntimePolicyError(field: field, line: entry.line, "expected a single value") }
        return String(decoding: value, as: UTF8.self)
    }

    private static func scope(_ entry: DataEntry) throws(RuntimePolicyError) -> PolicyScope {
        guard case .map(let members, _) = entry.value else { throw RuntimePolicyError(field: "scope", line: entry.line, "expected a mapping of criteria") }
        var scope = PolicyScope()
        for member in members {
            let key = String(decoding: member.key, as: UTF8.self)
            var values: [String] = []
            switch member.value {
            case .scalar(let v, _): values = [String(decoding: v, as: UTF8.self)]
            case .list(let items, _):
                for item in items {
                    guard case .scalar(let v, _) = item else { throw RuntimePolicyError(field: "scope.\(key)", line: item.line, "expected a list of values") }
                    values.append(String(decoding: v, as: UTF8.self))
                }
            case .null: values = []
            case .map: throw RuntimePolicyError(field: "scope.\(key)", line: member.line, "expected a list of values")
            }
            try PolicyScope.check(key, values)
            switch key {
            case "tags": scope.tags = values
            case "functions": scope.functions = values
            case "accounts": scope.accounts = values
            case "regions": scope.regions = values
            case "runtimes": scope.runtimes = values
            case "architectures": scope.architectures = values
            default: throw RuntimePolicyError(field: "scope.\(key)", line: member.line, "unknown criterion (\(PolicyScope.fields.joined(separator: ", ")))")
            }
        }
        return scope
    }
}
