import Synchronization

/// Group commit: batches that arrive while a transaction is being written wait, and are then written
/// together in the next one. Every batch is acknowledged only after the transaction holding it has
/// committed, so a 202 always means durable; under load one fsync covers many batches.
///
/// The writer drains the queue itself (`SQLDatabase.drain`): it takes the next transaction's batches
/// the moment it has committed one, without waiting for a turn on the tasks' threads, which are busy
/// parsing the batches behind (on two cores that wait left the SQLite writer idle between commits).
public final class IngestQueue: Sendable {
    private struct Job: Sendable {
        var statements: [SQLStatement]
        var insertCount: Int
        var continuation: CheckedContinuation<Result<Int, StoreError>, Never>
    }
    private struct State {
        var pending: [Job] = []
        var flushers = 0
        var commits = 0
    }

    private let database: any SQLDatabase
    private let maxStatementsPerCommit: Int
    private let maxConcurrentCommits: Int
    private let metrics: ServerMetrics?
    private let state = Mutex(State())
    /// Transactions per write access: then other writers (jobs, the API) get their turn.
    static let commitsPerDrain = 8

    /// `maxConcurrentCommits`: transactions in flight at once (1 for SQLite, whose writes are serial
    /// anyway; a few for PostgreSQL, which commits concurrent transactions in parallel).
    public init(database: any SQLDatabase, maxStatementsPerCommit: Int = 100, maxConcurrentCommits: Int = 1, metrics: ServerMetrics? = nil) {
        self.database = database
        self.maxStatementsPerCommit = maxStatementsPerCommit
        self.maxConcurrentCommits = max(1, maxConcurrentCommits)
        self.metrics = metrics
    }

    /// Writes `statements`; once they are committed, returns the sum of the counts the first
    /// `insertCount` of them answered (`SQLStatement.countsChanges`: the events actually inserted).
    /// In a transaction of several batches, every batch's first `insertCount` statements run before
    /// the rest of any, which run in `SQLStatement.lockKey` order.
    public func submit(_ statements: [SQLStatement], insertCount: Int) async throws(StoreError) -> Int {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int, StoreError>, Never>) in
            let startFlusher = state.withLock { state in
                state.pending.append(Job(statements: statements, insertCount: insertCount, continuation: continuation))
                guard state.flushers < maxConcurrentCommits else { return false }
                state.flushers += 1
                return true
            }
            if startFlusher { Task { await self.flush() } }
        }
        return try result.get()
    }

    /// True when no batch is waiting and no commit is being written: work that can wait (the search
    /// indexer) goes in these gaps.
    public var isIdle: Bool { state.withLock { $0.pending.isEmpty && $0.flushers == 0 } }
    /// Batches waiting for a transaction.
    var pendingBatches: Int { state.withLock { $0.pending.count } }
    /// Ingest transactions written so far (whether they committed or failed).
    public var commits: Int { state.withLock { $0.commits } }

    private func flush() async {
        while await !database.drain(limit: Self.commitsPerDrain, next: { self.nextCommit() }, committed: { self.committed($0, $1) }) {}
    }

    /// The batches of the next transaction (as many as fit in `maxStatementsPerCommit`, at least one)
    /// with when it started; nil, and one flusher fewer, when none is waiting.
    private func nextCommit() -> (batch: (jobs: [Job], started: ContinuousClock.Instant), statements: [SQLStatement])? {
        let jobs = state.withLock { state -> [Job]? in
            guard !state.pending.isEmpty else { state.flushers -= 1; return nil }
            var statements = 0, taken = 0
            for job in state.pending {
                guard taken == 0 || statements + job.statements.count <= maxStatementsPerCommit else { break }
                statements += job.statements.count
                taken += 1
            }
            state.commits += 1
            defer { state.pending.removeFirst(taken) }
            return Array(state.pending.prefix(taken))
        }
        guard let jobs else { return nil }
        // Every batch's counted statements (its inserts) first, in order; then the rest of all of
        // them by `lockKey` (the fleet's upserts), so concurrent commits lock rows in one order.
        let counted = jobs.flatMap { $0.statements.prefix($0.insertCount) }
        let locking = jobs.flatMap { $0.statements.dropFirst($0.insertCount) }.enumerated()
            .sorted { a, b in
                // By bytes: String's < ties canonically equivalent keys, whose rows differ.
                let ka = (a.element.lockKey ?? "").utf8, kb = (b.element.lockKey ?? "").utf8
                return ka.elementsEqual(kb) ? a.offset < b.offset : ka.lexicographicallyPrecedes(kb)
            }.map(\.element)
        return ((jobs, ContinuousClock.now), counted + locking)
    }

    /// Acknowledges the batches of a transaction: each with its own count of inserted events, or all
    /// with the transaction's error.
    private func committed(_ batch: (jobs: [Job], started: ContinuousClock.Instant), _ result: Result<[[SQLRow]], StoreError>) {
        switch result {
        case .success(let results):
            if let metrics {
                // Commits, the batches they carried and the time they took: group commit at work.
                let took = ContinuousClock.now - batch.started
                metrics.add("kitsune_ingest_commits_total", 1)
                metrics.add("kitsune_ingest_commit_batches_total", batch.jobs.count)
                metrics.add("kitsune_ingest_commit_microseconds_total", Int(took.components.seconds * 1_000_000 + took.components.attoseconds / 1_000_000_000_000))
            }
            var offset = 0
            for job in batch.jobs {
                let inserted = results[offset..<(offset + job.insertCount)].reduce(0) { $0 + Int($1.first?.int(0) ?? 0) }
                offset += job.insertCount
                job.continuation.resume(returning: .success(inserted))
            }
        case .failure(let error):
            for job in batch.jobs { job.continuation.resume(returning: .failure(error)) }
        }
    }
}
