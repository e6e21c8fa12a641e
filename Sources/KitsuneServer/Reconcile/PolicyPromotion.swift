import Foundation
import KitsunePolicy

/// `promote_after: Nd`: an audit policy whose current version has protected functions for N days
/// without one violation (a `blocked` or `reported` event from a function it covers) becomes an
/// enforce policy — a new version, saved and audited like any change, that every reconciler (the
/// server's, and in-account agents through their desired state) then deploys.
struct PolicyPromotion {
    let store: ServerStore

    /// Promotes every policy that is due at `nowMs`; the promoted ones.
    func promoteDue(nowMs: Int64 = Timestamps.nowMs(), actor: String) async throws(StoreError) -> [StoredPolicy] {
        var promoted: [StoredPolicy] = []
        for stored in try await store.policies() {
            guard stored.policy.mode == .audit, let days = stored.policy.promoteAfterDays,
                  nowMs - stored.updatedMs >= Int64(days) * 86_400_000 else { continue }
            let protected = try await store.database.first(SQLStatement(
                "SELECT COUNT(*) FROM functions WHERE policy_id = ? AND policy_version = ? AND status = 'protected'", [.text(stored.id), .int(stored.version)]))?[0].int ?? 0
            guard protected > 0 else { continue }      // nothing observed: nothing to go by
            let violations = try await store.database.first(SQLStatement("""
                SELECT COUNT(*) FROM events e WHERE e.time_ms >= ? AND e.action IN ('blocked', 'reported')
                AND EXISTS (SELECT 1 FROM functions f WHERE f.policy_id = ? AND f.name = e.function_name AND f.account_id = e.account_id AND f.region = e.region)
                """, [.int(stored.updatedMs), .text(stored.id)]))?[0].int ?? 0
            guard violations == 0 else { continue }
            let document = Self.enforcing(stored.policy.document)
            guard let policy = try? RuntimePolicy(yaml: document), policy.mode == .enforce else { continue }
            let change = "promote: audit → enforce after \(days) days without violations"
            guard let saved = try await store.updatePolicy(stored.id, policy, expectedVersion: stored.version, change: change, actor: actor) else { continue }
            _ = try await store.database.transaction([store.audit(actor, "policy.promote", stored.id,
                "policy \(stored.policy.name) v\(saved.version): promoted to enforce after \(days) days in audit without violations on \(protected) function\(protected == 1 ? "" : "s")")])
            promoted.append(saved)
        }
        return promoted
    }

    /// The document with `mode: enforce` and without `promote_after` (every other line as written).
    static func enforcing(_ document: String) -> String {
        document.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
            if line.hasPrefix("promote_after:") { return nil }
            if line.hasPrefix("mode:") { return "mode: enforce" }
            return String(line)
        }.joined(separator: "\n")
    }
}
