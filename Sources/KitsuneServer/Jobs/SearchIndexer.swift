import Logging
import ServiceLifecycle

/// Fills the trigram index behind ingest — SQLite's (migration 10) in steps of `step` events after
/// its watermark, PostgreSQL's (migration 13) in steps of `postgresStep` queued events — so that
/// ingest never pays for the index:
/// - on SQLite a step waits for a gap in ingest (no batch waiting, no commit being written), at most
///   `maxWait` — under sustained ingest the index still advances, and its lag stays bounded (on
///   PostgreSQL a step holds no lock ingest needs: it does not wait);
/// - while events are arriving the indexer works at most `busyShare` of the time (a step of d ms is
///   followed by a pause), leaving the CPU and the write lock to ingest; with none arriving it
///   catches up at full speed.
/// Free-text queries are exact whatever the lag: they also read what is not indexed yet. On
/// PostgreSQL it also merges the index's pending list every `pendingListInterval`, so that no step
/// has to (migration 12).
public struct SearchIndexer: Service {
    public let store: ServerStore
    public let ingest: IngestQueue?
    /// Events a SQLite step indexes (about 8 µs each on this machine); 0: no indexing.
    public var step = 200
    /// Events a PostgreSQL step moves into its chunks: larger than SQLite's, since every step is two
    /// round trips and a transaction of its own.
    public var postgresStep: Int { step * 5 }
    /// The longest a step waits for a gap in ingest.
    public var maxWait: Duration = .milliseconds(250)
    /// The share of time the indexer may take while ingest is busy. PostgreSQL's steps do not hold a
    /// lock ingest needs (only the CPU), and its index must keep up with 10 000 events/s: a larger
    /// share there.
    public var busyShare = 0.2
    public var postgresBusyShare = 0.5
    /// The pause once the index has caught up.
    public var idlePause: Duration = .milliseconds(500)
    /// PostgreSQL: how often the trigram index's pending list is merged.
    public var pendingListInterval: Duration = .seconds(1)
    let metrics: ServerMetrics?
    let logger: Logger

    public init(store: ServerStore, ingest: IngestQueue?, metrics: ServerMetrics? = nil, logger: Logger = Logger(label: "kitsune.search-indexer")) {
        self.store = store
        self.ingest = ingest
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether there is an index to fill (a step of at least one event).
    public var isNeeded: Bool { step > 0 }

    public func run() async throws {
        let postgres = store.database.dialect == .postgres
        // A service that returns ends the whole server: with nothing to do, wait for the shutdown.
        guard isNeeded else { try? await gracefulShutdown(); return }
        let (size, share) = postgres ? (postgresStep, postgresBusyShare) : (step, busyShare)
        var seenCommits = ingest?.commits ?? 0
        var merged = ContinuousClock.now, caughtUp = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var waited: Duration = .zero
            while let ingest, !postgres, !ingest.isIdle, waited < maxWait {
                try? await Task.sleep(for: .milliseconds(2))
                waited += .milliseconds(2)
            }
            let started = ContinuousClock.now
            var pause: Duration
            do {
                // A shutdown cancels a step (a lost step is done again).
                let store = self.store, merge = postgres && ContinuousClock.now - merged >= pendingListInterval
                let (added, pages) = try await cancelWhenGracefulShutdown {
                    (try await store.indexSearchText(limit: size), merge ? try await store.mergeSearchPendingList() : 0)
                }
                if merge { merged = ContinuousClock.now }
                metrics?.add("kitsune_search_indexed_total", added)
                metrics?.add("kitsune_search_pending_pages_merged_total", pages)
                pause = added < size ? idlePause : .milliseconds(1)
                if postgres, added < size, caughtUp == false {
                    // Caught up after a backlog: the planner's statistics of the chunks are from when
                    // there were far fewer (a `q` list then read all of them: 576 ms, measured).
                    _ = try? await store.refreshPlannerStatistics()
                }
                caughtUp = added < size
            } catch {
                if Task.isShuttingDownGracefully { break }
                logger.warning("search indexing failed: \(error)")
                pause = .seconds(2)
            }
            let commits = ingest?.commits ?? 0
            if commits != seenCommits {
                // Ingest is busy: keep to `share` of the time.
                seenCommits = commits
                pause = max(pause, (ContinuousClock.now - started) * ((1 - share) / share))
            }
            let wait = pause
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
    }
}
