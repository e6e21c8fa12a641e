import Foundation

/// Runs reconcile passes one at a time across every replica: a pass holds the `reconciler` lease
/// (renewed while it runs), so `POST /api/v1/reconcile` on one replica and the background job on
/// another never overlap. The background job runs a pass every interval, and sooner when a policy
/// changed since the last pass.
public final class ReconcileRunner: @unchecked Sendable {
    public let reconciler: Reconciler
    let holder = "reconciler-" + randomHex(bytes: 8)
    static let leaseMs: Int64 = 120_000
    private let lock = NSLock()
    private var lastStartMs: Int64 = 0
    private var lastReport: ReconcileReport?
    private var running = false

    public init(reconciler: Reconciler) {
        self.reconciler = reconciler
    }

    /// The most recent pass of this replica.
    public var last: ReconcileReport? { lock.withLock { lastReport } }

    /// Runs a pass now; nil when another pass holds the lease.
    public func runNow(actor: String = "reconciler") async throws(StoreError) -> ReconcileReport? {
        let store = reconciler.store
        guard try await store.acquireLease("reconciler", holder: holder, ttlMs: Self.leaseMs) else { return nil }
        lock.withLock { lastStartMs = Timestamps.nowMs() }
        let renew = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(Self.leaseMs / 3))
                _ = try await store.acquireLease("reconciler", holder: self.holder, ttlMs: Self.leaseMs)
            }
        }
        defer { renew.cancel() }
        do {
            let report = try await reconciler.pass(actor: actor)
            lock.withLock { lastReport = report }
            await store.releaseLeaseOnExit("reconciler", holder: holder)
            return report
        } catch {
            await store.releaseLeaseOnExit("reconciler", holder: holder)
            throw error
        }
    }

    /// The background job: a pass when the interval has passed, or a policy or account changed since
    /// the last one. The pass runs beside the jobs loop (a long pass must not hold up its lease).
    public var job: (name: String, run: BackgroundJobs.Job) {
        ("reconcile", { [self] store in
            let now = Timestamps.nowMs()
            let last = lock.withLock { lastStartMs }
            let changed = try await store.database.first(SQLStatement(
                "SELECT MAX(t) FROM (SELECT MAX(updated_ms) AS t FROM policies UNION ALL SELECT MAX(created_ms) AS t FROM accounts) c"))?[0].int ?? 0
            guard now - last >= reconciler.options.intervalMs || changed >= last else { return }
            let start: Bool = lock.withLock { if running { return false }; running = true; return true }
            guard start else { return }
            Task {
                defer { self.lock.withLock { self.running = false } }
                _ = try? await self.runNow()
            }
        })
    }
}
