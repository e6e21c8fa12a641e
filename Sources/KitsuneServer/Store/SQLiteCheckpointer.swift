import Dispatch
import Foundation
import GRDBSQLite

/// Copies the write-ahead log into the database file on a connection and a thread of its own, so that
/// the writer (ingest) does little of it inside a commit.
///
/// SQLite's automatic checkpoint runs in whichever commit finds the log at 1 000 pages or more: that
/// commit reads the log back, writes the pages into the database and syncs it, while every batch
/// behind it waits for the write lock, and the next transaction starts the log over. Every `interval`
/// a passive checkpoint here does the bulk of that copy beside the writer (it takes no write lock and
/// copies only frames no reader still needs), so the writer's own checkpoint finds most of the log
/// copied already and only copies the rest. (A passive checkpoint alone never lets the log start over
/// under steady writes: the writer appends while it copies. A blocking one here instead would stall
/// writes for the busy handler's sleeps: batch p99 58–73 ms against 37.) A checkpoint that fails (a
/// full disk) leaves the log as it was and is tried again at the next tick.
final class SQLiteCheckpointer: @unchecked Sendable {
    private let queue = DispatchQueue(label: "kitsune.sqlite.checkpoint")
    private let timer: DispatchSourceTimer
    /// Touched on `queue` only.
    private var connection: OpaquePointer?

    /// Opens its own connection to `path` (a database in WAL mode) and starts checkpointing.
    init(path: String, interval: DispatchTimeInterval = .milliseconds(50)) {
        var db: OpaquePointer?
        if sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK {
            // FULL: the log is synced before it is copied and the database after, as SQLite's own
            // checkpoint does.
            sqlite3_exec(db, "PRAGMA synchronous = FULL", nil, nil, nil)
            connection = db
        } else {
            sqlite3_close(db)
        }
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.checkpoint() }
        timer.resume()
    }

    /// One passive checkpoint (on `queue`).
    private func checkpoint() {
        guard let connection else { return }
        sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }

    /// Stops the timer and closes the connection; waits for a checkpoint in progress. Idempotent.
    func stop() {
        timer.cancel()
        queue.sync {
            sqlite3_close(connection)
            connection = nil
        }
    }

    /// No checkpoint can be running here: the timer holds this object weakly, and a tick that got a
    /// strong reference ended before the last one went (possibly on `queue`, so no `sync` here).
    deinit {
        timer.cancel()
        sqlite3_close(connection)
    }
}
