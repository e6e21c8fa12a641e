import Foundation

/// One statement of an IAM policy (identity policy or resource policy), normalised: every
/// string-or-array field is an array, `Action`/`NotAction` and `Resource`/`NotResource` are explicit.
public struct PolicyStatement: Hashable, Sendable {
    public enum Effect: String, Sendable { case allow = "Allow", deny = "Deny" }

    /// A list of patterns, or its complement (`NotAction`, `NotResource`, `NotPrincipal`).
    public enum PatternSet: Hashable, Sendable {
        case only([String])
        case allExcept([String])
    }

    public var sid: String?
    /// Position in the document (0-based), used to name statements without a Sid.
    public var index: Int
    public var effect: Effect
    public var actions: PatternSet
    /// `nil` for resource policies that omit `Resource` (the resource is the policy's owner).
    public var resources: PatternSet?
    /// Resource policies only: `Principal` / `NotPrincipal` values by type (`AWS`, `Service`, …);
    /// the string form `"*"` is stored as `["*": ["*"]]`. Other bare strings, which IAM's grammar does
    /// not allow but Lambda's `AddPermission`, some APIs and emulators return (`"123456789012"`,
    /// `"arn:aws:iam::123456789012:root"`, `"s3.amazonaws.com"`), are filed under the type they name.
    public var principals: [String: [String]]?
    public var notPrincipal: Bool
    /// `Condition` as operator → key → values.
    public var condition: [String: [String: [String]]]

    /// Human name: the Sid, or `Statement[i]`.
    public var label: String { sid.map { "Sid \"\($0)\"" } ?? "Statement[\(index)]" }

    /// The action part as written: `a, b` or `every action except a, b`.
    public var actionsText: String {
        switch actions {
        case .only(let patterns): return patterns.joined(separator: ", ")
        case .allExcept(let patterns): return "every action except " + patterns.joined(separator: ", ")
        }
    }

    /// Condition keys present (`aws:SourceArn`, …), lower-cased.
    public var conditionKeys: [String] {
        condition.values.flatMap { $0.keys.map { $0.lowercased() } }.sorted()
    }

    /// Whether the statement's action part covers `action` (`service:Name`).
    public func covers(action: String) -> Bool {
        switch actions {
        case .only(let patterns): return patterns.contains { Wildcard.matches($0, action, caseInsensitive: true) }
        case .allExcept(let patterns): return !patterns.contains { Wildcard.matches($0, action, caseInsensitive: true) }
        }
    }

    /// Whether the statement's resource part covers `resource` (an ARN). A missing resource part
    /// (resource policies) covers the policy's own resource, which is what callers ask about.
    public func covers(resource: String) -> Bool {
        switch resources {
        case .none: return true
        case .only(let patterns)?: return patterns.contains { Wildcard.matches($0, resource) }
        case .allExcept(let patterns)?: return !patterns.contains { Wildcard.matches($0, resource) }
        }
    }
}

/// A parsed IAM policy document.
public struct PolicyDocument: Hashable, Sendable {
    /// Names the policy in messages: `inline policy "x" of role r`, `AdministratorAccess`, …
    public var source: String
    public var version: String?
    public var statements: [PolicyStatement]

    /// Parses a document given as text, as IAM returns it: JSON, possibly URL-encoded (GetRolePolicy and
    /// GetPolicyVersion return `%7B%22Version%22…`). Throws ``PolicyError`` naming `source`.
    public static func parse(text: String, source: String) throws -> PolicyDocument {
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.isEmpty { throw PolicyError(source: source, problem: "the document is empty") }
        if body.hasPrefix("%") || (!body.hasPrefix("{") && body.contains("%7B")) {
            guard let decoded = body.removingPercentEncoding else {
                throw PolicyError(source: source, problem: "the document looks URL-encoded but has invalid percent escapes")
            }
            body = decoded
        }
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch {
            throw PolicyError(source: source, problem: "\(error)")
        }
        return try parse(value: value, source: source)
    }

    /// Parses an already-decoded document. A document that is itself a JSON string (a policy stored as a
    /// string instead of an object, as some templates do) is parsed once more and said so in errors.
    public static func parse(value: JSONValue, source: String) throws -> PolicyDocument {
        if case .string(let inner) = value {
            do { return try parse(text: inner, source: source) } catch let error as PolicyError {
                throw PolicyError(source: source, problem: "the policy is a string, not an object, and that string is not a policy: \(error.problem)")
            }
        }
        guard let object = value.objectValue else {
            throw PolicyError(source: source, problem: "the policy must be an object with a Statement, got \(value.kindName)")
        }
        guard let statementValue = object["Statement"] else {
            throw PolicyError(source: source, problem: "no \"Statement\" element")
        }
        let rawStatements: [JSONValue]
        switch statementValue {
        case .array(let list): rawStatements = list
        case .object: rawStatements = [statementValue]
        default:
            throw PolicyError(source: source, problem: "\"Statement\" must be an object or an array of objects, got \(statementValue.kindName)")
        }
        var statements: [PolicyStatement] = []
        for (index, raw) in rawStatements.enumerated() {
            statements.append(try parseStatement(raw, index: index, source: source))
        }
        return PolicyDocument(source: source, version: object["Version"]?.stringValue, statements: statements)
    }

    private static func parseStatement(_ raw: JSONValue, index: Int, source: String) throws -> PolicyStatement {
        func fail(_ why: String) -> PolicyError { PolicyError(source: source, problem: "Statement[\(index)]: \(why)") }
        guard let object = raw.objectValue else { throw fail("must be an object, got \(raw.kindName)") }
        let effect: PolicyStatement.Effect
        switch object["Effect"] {
        case .string(let e)? where e == "Allow": effect = .allow
        case .string(let e)? where e == "Deny": effect = .deny
        case .some(let other): throw fail("Effect must be \"Allow\" or \"Deny\", got \(other.displayText)")
        case .none: throw fail("Effect is missing")
        }
        func patterns(_ key: String) throws -> [String]? {
            guard let value = object[key] else { return nil }
            switch value {
            case .string(let s): return [s]
            case .intrinsic: return [value.displayText]
            case .array(let items):
                if items.isEmpty { throw fail("\(key) is an empty array") }
                return try items.map { item in
                    switch item {
                    case .string(let s): return s
                    case .intrinsic: return item.displayText
                    default: throw fail("\(key) entries must be strings, got \(item.kindName)")
                    }
                }
            default: throw fail("\(key) must be a string or an array of strings, got \(value.kindName)")
            }
        }
        let action = try patterns("Action"), notAction = try patterns("NotAction")
        let actions: PolicyStatement.PatternSet
        switch (action, notAction) {
        case (let a?, nil): actions = .only(a)
        case (nil, let n?): actions = .allExcept(n)
        case (.some, .some): throw fail("has both Action and NotAction")
        case (nil, nil): throw fail("has neither Action nor NotAction")
        }
        let resource = try patterns("Resource"), notResource = try patterns("NotResource")
        var resources: PolicyStatement.PatternSet?
        switch (resource, notResource) {
        case (let r?, nil): resources = .only(r)
        case (nil, let n?): resources = .allExcept(n)
        case (.some, .some): throw fail("has both Resource and NotResource")
        case (nil, nil): resources = nil
        }
        var principals: [String: [String]]?
        var notPrincipal = false
        if let p = object["Principal"] ?? object["NotPrincipal"] {
            notPrincipal = object["Principal"] == nil
            principals = try parsePrincipal(p, fail: fail)
        }
        var condition: [String: [String: [String]]] = [:]
        if let c = object["Condition"] {
            guard let ops = c.objectValue else { throw fail("Condition must be an object, got \(c.kindName)") }
            for (op, block) in ops {
                guard let keys = block.objectValue else { throw fail("Condition \(op) must be an object, got \(block.kindName)") }
                var entry: [String: [String]] = [:]
                for (key, v) in keys {
                    switch v {
                    case .array(let items): entry[key] = items.map(\.displayText)
                    default: entry[key] = [v.displayText]
                    }
                }
                condition[op] = entry
            }
        }
        return PolicyStatement(sid: object["Sid"]?.stringValue, index: index, effect: effect, actions: actions,
                               resources: resources, principals: principals, notPrincipal: notPrincipal,
                               condition: condition)
    }

    /// A principal given as a bare string: `*` is everyone; a service host name is `Service`; an account
    /// id, an ARN or anything else is an `AWS` principal (what Lambda's AddPermission makes of it).
    static func principalString(_ s: String) -> [String: [String]] {
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" { return ["*": ["*"]] }
        if trimmed.hasSuffix(".amazonaws.com") || trimmed.hasSuffix(".amazonaws.com.cn") { return ["Service": [trimmed]] }
        return ["AWS": [trimmed]]
    }

    private static func parsePrincipal(_ value: JSONValue, fail: (String) -> PolicyError) throws -> [String: [String]] {
        switch value {
        case .string(let s): return principalString(s)
        case .object(let map):
            var out: [String: [String]] = [:]
            for (type, v) in map {
                switch v {
                case .string(let s): out[type] = [s]
                case .array(let items): out[type] = items.map(\.displayText)
                case .intrinsic: out[type] = [v.displayText]
                default: throw fail("Principal \(type) must be a string or an array, got \(v.kindName)")
                }
            }
            return out
        default: throw fail("Principal must be \"*\" or an object, got \(value.kindName)")
        }
    }
}

/// A policy that could not be read: names the policy and what is wrong. Never treated as "no permissions".
public struct PolicyError: Error, CustomStringConvertible, Hashable, Sendable {
    public var source: String
    public var problem: String
    public var description: String { "malformed policy (\(source)): \(problem)" }
}
