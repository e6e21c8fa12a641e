import Dispatch
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log into the database file mostly beside the writer (ingest), on a
/// connection and a thread of its own, without ever keeping the writer's own checkpoint from running.
///
/// SQLite's automatic checkpoint runs in whichever commit finds the log at 1 000 pages or more: that
/// commit reads the log back, writes the pages into the database and syncs it while every batch behind
/// it waits, and once the log is copied the next transaction starts it over. Here every `interval` a
/// passive checkpoint does the bulk of that copy beside the writer, and the writer's checkpoint (its
/// WAL hook, `writerCommitted`, which replaces SQLite's automatic one) finds most of the log copied
/// already. The two never run at once: both hold `lock` while they checkpoint. Without that, the
/// writer's checkpoint gave up whenever it found the other one copying, and with the CPU taken the log
/// never started over (past 100 MB for 64 MB written). A checkpoint that fails (a full disk) leaves
/// the log as it was and is tried again later.
final class SQLiteCheckpointer: @unchecked Sendable {  // the connection is only touched under `lock`
    /// The writer's threshold, SQLite's default `wal_autocheckpoint`.
    static let writerFrames: Int32 = 1_000

    /// The checkpointer's own connection (nil until started, and once stopped).
    private struct Connection: @unchecked Sendable { var handle: OpaquePointer? }
    private let lock = Mutex(Connection())
    private let queue = DispatchQueue(label: "kitsune.sqlite.checkpoint")
    private let timer: DispatchSourceTimer
    private let path: String

    /// Ticks every `interval`; a tick does nothing until `start()` has opened the connection to `path`.
    init(path: String, interval: DispatchTimeInterval = .milliseconds(50)) {
        self.path = path
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in
            self?.lock.withLock { connection in
                guard let handle = connection.handle else { return }
                sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
        }
        timer.resume()
    }

    /// Opens the checkpointer's connection (the database must be in WAL mode by then).
    func start() {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
            sqlite3_close(db)
            return
        }
        // FULL: the log is synced before it is copied and the database after, as SQLite's own
        // checkpoint does.
        sqlite3_exec(db, "PRAGMA synchronous = FULL", nil, nil, nil)
        let opened = Connection(handle: db)
        lock.withLock { $0 = opened }
    }

    /// Installs the WAL hook on `connection` (each of the pool's connections; only the writer commits).
    func install(on connection: OpaquePointer?) {
        sqlite3_wal_hook(connection, { context, db, name, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue().writerCommitted(db, name, frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// After each commit of the writer, on its thread: its own checkpoint once the log holds
    /// `writerFrames`, waiting for one of the checkpointer's in progress rather than giving up.
    private func writerCommitted(_ db: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ frames: Int32) {
        guard frames >= Self.writerFrames else { return }
        nonisolated(unsafe) let db = db, name = name
        lock.withLock { _ in _ = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil) }
    }

    /// Stops the ticks and closes the connection; waits for a checkpoint in progress. Idempotent.
    func stop() {
        timer.cancel()
        lock.withLock { connection in
            sqlite3_close(connection.handle)
            connection.handle = nil
        }
    }

    deinit {
        stop()
    }
}
