import Foundation

/// What one reconcile pass did.
public struct ReconcileReport: Sendable {
    /// What happened to one function.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Protected now (first deployment, or a new policy version / layer).
        case deployed
        /// Was protected, someone changed it by hand (layer removed, wrapper changed): put back.
        case repaired
        /// Out of scope now: everything Kitsune added was removed.
        case removed
        /// Already as desired.
        case unchanged
        /// Cannot be protected this way (runtime, image, another wrapper); untouched.
        case skipped
        /// Tried and failed (limits, a rejected update); untouched; retried next pass.
        case failed
        /// AWS was busy (update in progress, throttling); retried next pass.
        case retrying
    }

    /// One function's line.
    public struct Item: Sendable {
        public var arn: String
        public var name: String
        public var account: String
        public var region: String
        public var policyID: String?
        public var policyName: String?
        public var policyVersion: Int64?
        public var outcome: Outcome
        public var detail: String
        /// The same failure as at the previous pass (not audited again).
        public var repeated = false
    }

    /// An account/region that could not be listed (nothing in it was touched).
    public struct AccountFailure: Sendable {
        public var account: String
        public var region: String
        public var error: String
    }

    public var startedMs: Int64
    public var finishedMs: Int64 = 0
    public var items: [Item] = []
    public var failures: [AccountFailure] = []
    /// AWS requests sent during the pass (when the connector counts them).
    public var awsCalls: Int = 0

    public func count(_ outcome: Outcome) -> Int { items.filter { $0.outcome == outcome }.count }

    /// The audit lines of the pass, one per policy that changed something or failed somewhere:
    /// "policy web-api v3: 12 functions successfully deployed, 1 failed: fn: reason".
    public var auditSummaries: [(target: String, detail: String)] {
        var out: [(String, String)] = []
        let byPolicy = Dictionary(grouping: items.filter { $0.policyID != nil }) { "\($0.policyID!)|\($0.policyName ?? "")|\($0.policyVersion ?? 0)" }
        for key in byPolicy.keys.sorted() {
            let items = byPolicy[key]!
            let parts = key.split(separator: "|", omittingEmptySubsequences: false)
            let deployed = items.filter { $0.outcome == .deployed || $0.outcome == .repaired }
            let failed = items.filter { $0.outcome == .failed && !$0.repeated }
            guard !deployed.isEmpty || !failed.isEmpty else { continue }
            var text = "policy \(parts[1]) v\(parts[2]): \(deployed.count) function\(deployed.count == 1 ? "" : "s") successfully deployed"
            let repaired = items.filter { $0.outcome == .repaired }
            if !repaired.isEmpty { text += " (\(repaired.count) repaired after drift: \(repaired.map(\.name).prefix(10).joined(separator: ", ")))" }
            let skipped = items.filter { $0.outcome == .skipped }.count
            if skipped > 0 { text += ", \(skipped) skipped" }
            if !failed.isEmpty {
                text += ", \(failed.count) failed: " + failed.prefix(10).map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
            }
            out.append((String(parts[0]), text))
        }
        let removed = items.filter { $0.outcome == .removed }
        if !removed.isEmpty {
            out.append(("functions", "\(removed.count) function\(removed.count == 1 ? "" : "s") out of scope, Kitsune removed: " + removed.prefix(20).map(\.name).joined(separator: ", ")))
        }
        return out
    }
}
