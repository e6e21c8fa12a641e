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
    private var flushing = false

    public init(database: any SQLDatabase, maxStatementsPerCommit: Int = 400) {
        self.database = database
        self.maxStatementsPerCommit = maxStatementsPerCommit
    }

    /// Writes `statements`; returns how many rows the first `insertCount` of them returned (the
    /// events actually inserted) once they are committed.
    public func submit(_ statements: [SQLStatement], insertCount: Int) async throws(StoreError) -> Int {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int, StoreError>, Never>) in
            pending.append(Job(statements: statements, insertCount: insertCount, continuation: continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
        return try result.get()
    }

    private func flush() async {
        while !pending.isEmpty {
            var jobs: [Job] = []
            var statements = 0
            while let job = pending.first, jobs.isEmpty || statements + job.statements.count <= maxStatementsPerCommit {
                jobs.append(pending.removeFirst())
                statements += job.statements.count
            }
            do {
                let results = try await database.transaction(jobs.flatMap(\.statements))
                var offset = 0
                for job in jobs {
                    let inserted = results[offset..<(offset + job.insertCount)].reduce(0) { $0 + $1.count }
                    offset += job.statements.count
                    job.continuation.resume(returning: .success(inserted))
                }
            } catch {
                for job in jobs { job.continuation.resume(returning: .failure(error)) }
            }
        }
        flushing = false
    }
}
