import Foundation
import Logging
import ServiceLifecycle

/// Work that must run on exactly one replica at a time (retention today; the reconciler of policies
/// next): each replica tries to take the `jobs` lease every `interval`; the holder renews it and
/// runs the jobs; when it dies, the lease expires after `ttl` and another replica takes over.
public struct BackgroundJobs: Service {
    /// One job run by the lease holder at every tick.
    public typealias Job = @Sendable (ServerStore) async throws -> Void

    public let store: ServerStore
    /// This process's name in the lease table.
    public let holder: String
    public var interval: Duration = .seconds(10)
    public var ttlMs: Int64 = 30_000
    public var jobs: [(name: String, run: Job)]
    let logger: Logger
    let onLeadership: @Sendable (Bool) -> Void

    public init(store: ServerStore, holder: String? = nil, jobs: [(name: String, run: Job)],
                logger: Logger = Logger(label: "kitsune.jobs"), onLeadership: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.store = store
        self.holder = holder ?? "kitsune-" + randomHex(bytes: 8)
        self.jobs = jobs
        self.logger = logger
        self.onLeadership = onLeadership
    }

    public func run() async throws {
        var leader = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // A shutdown cancels the call or job running (its transaction rolls back).
            let store = self.store, holder = self.holder, ttlMs = self.ttlMs
            let isLeader = (try? await cancelWhenGracefulShutdown { try await store.acquireLease("jobs", holder: holder, ttlMs: ttlMs) }) ?? false
            if Task.isShuttingDownGracefully { break }
            if isLeader != leader {
                leader = isLeader
                onLeadership(leader)
                logger.info("\(leader ? "took" : "lost") the background-jobs lease", metadata: ["holder": "\(holder)"])
            }
            if leader {
                // A shutdown cancels the job running and skips the ones after it.
                for job in jobs where !Task.isShuttingDownGracefully {
                    do { try await cancelWhenGracefulShutdown { try await job.run(store) } } catch {
                        if Task.isShuttingDownGracefully { break }
                        logger.warning("background job \(job.name) failed: \(error)")
                    }
                }
            }
            // A graceful shutdown (SIGTERM, a test's cancel) ends the wait at once, not after `interval`.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // Released even when the run was cancelled, so another replica takes over at once.
        if leader {
            await store.releaseLeaseOnExit("jobs", holder: holder)
        }
    }

    /// Planner statistics (PostgreSQL): `ServerStore.refreshPlannerStatistics` at every tick, so that
    /// queries are planned with statistics soon after a burst of ingest.
    public static func statistics(minimumChanges: Int64 = 10_000, metrics: ServerMetrics? = nil) -> (name: String, run: Job) {
        ("statistics", { store in
            if try await store.refreshPlannerStatistics(minimumChanges: minimumChanges) {
                metrics?.add("kitsune_planner_statistics_refreshed_total", 1)
            }
        })
    }

    /// Retention: deletes events older than `retentionMs` in steps of `step` rows, pausing between
    /// steps so ingest is never stalled, at most `maxSteps` a tick.
    public static func retention(retentionMs: Int64, step: Int = 5000, maxSteps: Int = 20,
                                 metrics: ServerMetrics? = nil) -> (name: String, run: Job) {
        ("retention", { store in
            let cutoff = Timestamps.nowMs() - retentionMs
            for _ in 0..<maxSteps {
                let deleted = try await store.pruneEvents(olderThan: cutoff, limit: step)
                metrics?.add("kitsune_events_pruned_total", deleted)
                if deleted < step { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        })
    }
}
