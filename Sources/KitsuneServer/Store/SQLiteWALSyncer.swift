import Dispatch
import Foundation
import Synchronization

/// Makes the ingest writer's commits durable beside it: the writer commits without waiting for the
/// disk (`synchronous = NORMAL`) and goes on to the next transaction, while this syncer `fdatasync`s
/// the write-ahead log on a thread of its own and only then acknowledges what was committed before
/// the sync began. One sync covers every commit that finished before it, so under load the disk's
/// latency overlaps the writer's work instead of adding to it (on this 2-core host the writer waited
/// about 14% of its time in `fdatasync`).
///
/// Why this is as durable as `synchronous = FULL`: a commit is its frames in the log, and Linux
/// syncs a file's data whichever descriptor wrote it, so once `fdatasync` on the log returns, every
/// frame written before the call is on disk. A checkpoint that copies those frames into the database
/// and starts the log over syncs the database first (SQLite does that under NORMAL too). Nothing is
/// acknowledged before its sync: a crash of the process keeps the commit (it is in the page cache),
/// a crash of the machine may undo only commits nobody was told about.
final class SQLiteWALSyncer: Sendable {
    private struct State {
        var waiting: [@Sendable (StoreError?) -> Void] = []
        var syncing = false
        var descriptor: Int32 = -1
    }
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "kitsune.sqlite.wal-sync")
    private let walPath: String

    /// A syncer for the log of the database at `databasePath`.
    init(databasePath: String) {
        walPath = databasePath + "-wal"
    }

    /// Calls `acknowledge` once everything the caller has committed so far is on disk (nil), or with
    /// why it could not be made so (the commit may still be there; a retry is deduplicated).
    func afterSync(_ acknowledge: @escaping @Sendable (StoreError?) -> Void) {
        let start = state.withLock { state in
            state.waiting.append(acknowledge)
            guard !state.syncing else { return false }
            state.syncing = true
            return true
        }
        if start { queue.async { self.syncWhileWaiting() } }
    }

    /// Closes the log's descriptor (after the last acknowledgement).
    func close() {
        queue.sync {
            state.withLock { state in
                if state.descriptor >= 0 { Foundation.close(state.descriptor) }
                state.descriptor = -1
            }
        }
    }

    private func syncWhileWaiting() {
        while true {
            let (waiting, descriptor) = state.withLock { state -> ([@Sendable (StoreError?) -> Void], Int32) in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.syncing = false }
                return (state.waiting, state.descriptor)
            }
            guard !waiting.isEmpty else { return }
            let outcome = sync(descriptor)
            for acknowledge in waiting { acknowledge(outcome) }
        }
    }

    /// Syncs the log through a descriptor of its own, opened again whenever the log's file is a new
    /// one (SQLite deletes it when its last connection closes).
    private func sync(_ current: Int32) -> StoreError? {
        var descriptor = current
        var onDisk = stat(), open = stat()
        if stat(walPath, &onDisk) != 0 { return failure("find") }
        if descriptor < 0 || fstat(descriptor, &open) != 0 || open.st_ino != onDisk.st_ino || open.st_dev != onDisk.st_dev {
            if descriptor >= 0 { Foundation.close(descriptor) }
            descriptor = Foundation.open(walPath, O_RDONLY | O_CLOEXEC)
            let problem = descriptor < 0 ? failure("open") : nil, opened = descriptor
            state.withLock { $0.descriptor = opened }
            if let problem { return problem }
        }
        return fdatasync(descriptor) == 0 ? nil : failure("sync")
    }

    /// What failed, naming the log and the system's reason (`errno`, read before anything else).
    private func failure(_ doing: String) -> StoreError {
        .unavailable("cannot \(doing) the write-ahead log \(walPath): \(String(cString: strerror(errno)))")
    }
}
