/// Group commit: batches that arrive while a transaction is being written wait, and are then written
/// together in the next one. Every batch is acknowledged only after the transaction holding it has
/// committed, so a 202 always means durable; under load one fsync covers many batches.
public actor IngestQueue {
    private struct Job {
        var statements: [SQLStatement]
        var insertCount: Int
        var continuation: CheckedContinuation<Result<Int, StoreError>, Never>
    }

    private let database: any SQLDatabase
    private let maxStatementsPerCommit: Int
    private var pending: [Job] = []
    private var flushers = 0
    private let maxConcurrentCommits: Int
    private let metrics: ServerMetrics?

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
    public func submit(_ statements: [SQLStatement], insertCount: Int) async throws(StoreError) -> Int {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int, StoreError>, Never>) in
            pending.append(Job(statements: statements, insertCount: insertCount, continuation: continuation))
            if flushers < maxConcurrentCommits {
                flushers += 1
                Task { await self.flush() }
            }
        }
        return try result.get()
    }

    /// True when no batch is waiting and no commit is being written: work that can wait (the search
    /// indexer) goes in these gaps.
    public var isIdle: Bool { pending.isEmpty && flushers == 0 }
    /// Ingest transactions written so far (whether they committed or failed).
    public private(set) var commits = 0

    private func flush() async {
        while !pending.isEmpty {
            var jobs: [Job] = []
            var statements = 0
            while let job = pending.first, jobs.isEmpty || statements + job.statements.count <= maxStatementsPerCommit {
                jobs.append(pending.removeFirst())
                statements += job.statements.count
            }
            commits += 1
            do {
                let started = ContinuousClock.now
                let results = try await database.transaction(jobs.flatMap(\.statements))
                if let metrics {
                    // Commits, the batches they carried and the time they took: group commit at work.
                    let took = ContinuousClock.now - started
                    metrics.add("kitsune_ingest_commits_total", 1)
                    metrics.add("kitsune_ingest_commit_batches_total", jobs.count)
                    metrics.add("kitsune_ingest_commit_microseconds_total", Int(took.components.seconds * 1_000_000 + took.components.attoseconds / 1_000_000_000_000))
                }
                var offset = 0
                for job in jobs {
                    let inserted = results[offset..<(offset + job.insertCount)].reduce(0) { $0 + Int($1.first?.int(0) ?? 0) }
                    offset += job.statements.count
                    job.continuation.resume(returning: .success(inserted))
                }
            } catch {
                for job in jobs { job.continuation.resume(returning: .failure(error)) }
            }
        }
        flushers -= 1
    }
}
