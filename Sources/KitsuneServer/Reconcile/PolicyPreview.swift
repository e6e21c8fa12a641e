import Foundation
import KitsunePolicy

/// The functions a policy would cover if saved: those in its scope for which it would be the
/// effective policy, against the other saved policies (a saved policy of the same name is the one
/// being replaced, so it is left out).
public struct PolicyPreview: Sendable {
    /// One covered function and what covers it today.
    public struct Entry: Sendable {
        public var function: InventoryFunction
        /// The policy effective today, if any (by name).
        public var currentPolicy: String?
    }

    /// Functions the policy would be effective for.
    public var covered: [Entry] = []
    /// Functions in its scope where another policy takes precedence, with that policy's name.
    public var shadowed: [(function: InventoryFunction, by: String)] = []

    public init(candidate: RuntimePolicy, policies: [StoredPolicy], functions: [InventoryFunction]) {
        let others = policies.filter { $0.policy.name != candidate.name }.map(\.policy)
        for function in functions {
            let facts = function.facts
            guard candidate.scope.matches(facts) else { continue }
            let today = PolicyPrecedence.effective(for: facts, among: policies.map(\.policy)) { $0 }
            let winner = PolicyPrecedence.effective(for: facts, among: others + [candidate]) { $0 }
            if winner?.name == candidate.name { covered.append(Entry(function: function, currentPolicy: today?.name)) }
            else if let winner { shadowed.append((function, winner.name)) }
        }
    }
}

extension InventoryFunction {
    /// What scopes are matched against.
    public var facts: FunctionFacts {
        FunctionFacts(name: name, account: accountID, region: region, runtime: runtime, architecture: architecture, tags: tags)
    }
}
