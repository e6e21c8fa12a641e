import Synchronization
import Logging
import ServiceLifecycle

/// Fills SQLite's trigram index (migration 10) behind ingest, in steps of `step` events (one short
/// write transaction each), so that ingest never pays for the index:
/// - a step waits for a gap in ingest (no batch waiting, no commit being written), at most `maxWait`
///   — under sustained ingest the index still advances, and its lag stays bounded;
/// - while events are arriving the indexer works at most `busyShare` of the time (a step of d ms is
///   followed by a pause), leaving the CPU and the write lock to ingest; with none arriving it
///   catches up at full speed.
/// Free-text queries are exact whatever the lag: they scan what is not indexed yet. On PostgreSQL,
/// where each event is stored with its trigram codes (migration 13), it instead merges the index's
/// pending list every `pendingListInterval`, so that no ingest transaction has to (migration 12),
/// gives events stored without codes theirs (up to ten steps a round), and every `stopCodesInterval` adds
/// the trigrams common by now to the stop codes and reads them (`PostgresSearchPlan`). Of replicas
/// sharing the database, the one holding the `search` lease does the merging, coding and choosing;
/// every replica reads the stop codes (and writes its copy back).
public struct SearchIndexer: Service {
    public let store: ServerStore
    public let ingest: IngestQueue?
    /// Events a step indexes (about 8 µs each on this machine).
    public var step = 200
    /// The longest a step waits for a gap in ingest.
    public var maxWait: Duration = .milliseconds(250)
    /// The share of time the indexer may take while ingest is busy.
    public var busyShare = 0.2
    /// The pause once the index has caught up.
    public var idlePause: Duration = .milliseconds(500)
    /// PostgreSQL: how often the trigram index's pending list is merged.
    public var pendingListInterval: Duration = .seconds(1)
    /// PostgreSQL: how often the stop codes are read (and, by the lease holder, chosen); every round
    /// while there are none.
    public var stopCodesInterval: Duration = .seconds(10)
    /// PostgreSQL: this replica's name in the lease table, and how long its `search` lease lasts
    /// (renewed every third of that); a replica that dies leaves the work to another after it.
    public var holder = "search-" + randomHex(bytes: 8)
    public var leaseTTLMs: Int64 = 15_000
    let metrics: ServerMetrics?
    let logger: Logger

    public init(store: ServerStore, ingest: IngestQueue?, metrics: ServerMetrics? = nil, logger: Logger = Logger(label: "kitsune.search-indexer")) {
        self.store = store
        self.ingest = ingest
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether there is an index to fill (SQLite, and a step of at least one event) or a pending list
    /// to merge (PostgreSQL).
    public var isNeeded: Bool { store.database.dialect == .postgres || step > 0 }

    public func run() async throws {
        // A service that returns ends the whole server: with nothing to do, wait for the shutdown.
        guard isNeeded else { try? await gracefulShutdown(); return }
        if store.database.dialect == .postgres { return await maintainPostgres() }
        var seenCommits = ingest?.commits ?? 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var waited: Duration = .zero
            while let ingest, !ingest.isIdle, waited < maxWait {
                try? await Task.sleep(for: .milliseconds(2))
                waited += .milliseconds(2)
            }
            let started = ContinuousClock.now
            var pause: Duration
            do {
                let added = try await store.indexSearchText(limit: step)
                metrics?.add("kitsune_search_indexed_total", added)
                pause = added < step ? idlePause : .milliseconds(1)
            } catch {
                logger.warning("search indexing failed: \(error)")
                pause = .seconds(2)
            }
            let commits = ingest?.commits ?? 0
            if commits != seenCommits {
                // Ingest is busy: keep to `busyShare` of the time.
                seenCommits = commits
                pause = max(pause, (ContinuousClock.now - started) * ((1 - busyShare) / busyShare))
            }
            let wait = pause
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
    }

    /// What the PostgreSQL maintenance remembers from one round to the next, kept as each step
    /// succeeds (a round that fails later keeps its lease and its reading of the stop codes).
    private final class Maintenance: Sendable {
        struct State: Sendable {
            var stopCodesRead: ContinuousClock.Instant?
            var lease: (held: Bool, checked: ContinuousClock.Instant)?
        }
        private let state = Mutex(State())
        var current: State { state.withLock { $0 } }
        func update(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }
    }

    private func maintainPostgres() async {
        let maintenance = Maintenance()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // A shutdown cancels the call running: during an outage each would wait for its deadline.
            do { try await cancelWhenGracefulShutdown { try await maintenanceRound(maintenance) } } catch {
                if Task.isShuttingDownGracefully { break }
                logger.warning("maintaining the search codes failed: \(error)")
            }
            let wait = pendingListInterval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        // Another replica takes over at once instead of after the lease's ttl.
        if maintenance.current.lease?.held == true {
            await store.releaseLeaseOnExit("search", holder: holder)
        }
    }

    /// One round: the lease (every third of its ttl), the stop codes (every `stopCodesInterval`), and
    /// for the holder the coding of old events and the merge of the pending list.
    private func maintenanceRound(_ maintenance: Maintenance) async throws {
        if maintenance.current.lease.map({ ContinuousClock.now - $0.checked >= .milliseconds(leaseTTLMs / 3) }) ?? true {
            // A failed call is not holding it; the stop codes are still read below.
            let held = try? await store.acquireLease("search", holder: holder, ttlMs: leaseTTLMs)
            maintenance.update { $0.lease = (held ?? false, .now) }
        }
        let state = maintenance.current
        let maintainer = state.lease?.held ?? false
        // Until there are stop codes (a new store), every round: the first events are the dearest to
        // store, with every one of their trigrams.
        if store.searchStopCodes.current.isEmpty || state.stopCodesRead.map({ ContinuousClock.now - $0 >= stopCodesInterval }) ?? true {
            try await store.refreshSearchStopCodes(choose: maintainer)
            maintenance.update { $0.stopCodesRead = .now }
        }
        if maintainer {
            // Events without codes (an upgrade) are each a candidate of every query: up to ten steps
            // a round, 2 000 events a second at the default step.
            for _ in 0..<(step > 0 ? 10 : 0) {
                let coded = try await store.codeSearchText(limit: step)
                metrics?.add("kitsune_search_indexed_total", coded)
                if coded < step || Task.isShuttingDownGracefully { break }
            }
            metrics?.add("kitsune_search_pending_pages_merged_total", try await store.mergeSearchPendingList())
        }
    }
}
