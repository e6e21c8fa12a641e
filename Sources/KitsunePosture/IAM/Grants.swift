/// How firmly a set of policies grants an action on a resource.
public enum GrantLevel: Int, Comparable, Sendable {
    /// No Allow statement covers it (or an unconditional Deny overrides).
    case none = 0
    /// Only Allow statements with a Condition cover it (narrowed; verify the condition).
    case conditional = 1
    /// An Allow statement without a Condition covers it.
    case unconditional = 2

    public static func < (lhs: GrantLevel, rhs: GrantLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The result of asking "may this role do `action` on `resource`?".
public struct Grant: Hashable, Sendable {
    public var level: GrantLevel
    /// The Allow statements that grant it, as `policy source: statement label`.
    public var evidence: [String]
    /// Condition keys that narrow a conditional grant.
    public var conditionKeys: [String]
}

extension Array where Element == PolicyDocument {
    /// Evaluates the documents together the way IAM does for one principal (identity policies only; no
    /// SCPs, boundaries or session policies): an unconditional explicit Deny wins, otherwise any Allow.
    public func grant(action: String, resource: String) -> Grant {
        var allowPlain: [String] = [], allowConditional: [String] = [], keys: [String] = []
        var conditionalDeny = false
        for document in self {
            for statement in document.statements
            where statement.covers(action: action) && statement.covers(resource: resource) {
                let label = "\(document.source): \(statement.label)"
                switch (statement.effect, statement.condition.isEmpty) {
                case (.deny, true): return Grant(level: .none, evidence: [label], conditionKeys: [])
                case (.deny, false): conditionalDeny = true
                case (.allow, true): allowPlain.append(label)
                case (.allow, false):
                    allowConditional.append(label)
                    keys.append(contentsOf: statement.conditionKeys)
                }
            }
        }
        if !allowPlain.isEmpty {
            return Grant(level: conditionalDeny ? .conditional : .unconditional, evidence: allowPlain,
                         conditionKeys: conditionalDeny ? ["(conditional Deny)"] : [])
        }
        if !allowConditional.isEmpty {
            return Grant(level: .conditional, evidence: allowConditional, conditionKeys: Set(keys).sorted())
        }
        return Grant(level: .none, evidence: [], conditionKeys: [])
    }
}
