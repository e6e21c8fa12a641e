import Foundation
import GRDB
import GRDBSQLite

/// The embedded store: one SQLite file in WAL mode (`synchronous = FULL`: a committed transaction
/// survives a crash of the process or of the machine). Writes are serialized by SQLite; reads run
/// concurrently with them.
public struct SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let pool: DatabasePool
    private let checkpointer: SQLiteCheckpointer
    private let syncer: SQLiteWALSyncer
    /// The database file.
    public let path: String

    /// Opens (creating when missing) `directory/kitsune.sqlite3`, creating `directory` mode 0700.
    public init(directory: String) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw .unavailable("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        path = (directory as NSString).appendingPathComponent("kitsune.sqlite3")
        let checkpointer = SQLiteCheckpointer(path: path)
        self.checkpointer = checkpointer
        syncer = SQLiteWALSyncer(databasePath: path)
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 8
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // 16 MB of page cache a connection (SQLite's default is 2 MB): the indexes' upper levels
            // stay in memory as the table grows.
            try db.execute(sql: "PRAGMA cache_size = -16384")
            // The writer's checkpoint, coordinated with the checkpointer's (replaces SQLite's own).
            checkpointer.install(on: db.sqliteConnection)
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw Self.map(error)
        }
        chmod(path, 0o600)
        checkpointer.start()
    }

    public func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] {
        do {
            if Self.isRead(statement.sql) {
                return try await pool.read { db in try Self.run(statement, in: db, cached: false) }
            }
            return try await pool.write { db in try Self.run(statement, in: db, cached: true) }
        } catch {
            throw Self.map(error)
        }
    }

    public func transaction(_ statements: [SQLStatement], durable: Bool) async throws(StoreError) -> [[SQLRow]] {
        do {
            if durable { return try await pool.write { db in try statements.map { try Self.run($0, in: db, cached: true) } } }
            return try await pool.writeWithoutTransaction { db in
                try Self.withoutWaitingForTheDisk(db) { try Self.commit(statements, in: db, .deferred) }
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// One write access for up to `limit` transactions: the writer goes from one commit to the next
    /// without leaving its queue (where each `transaction` is a hop in and a hop out), and without
    /// waiting for the disk: it commits with `synchronous = NORMAL` and `SQLiteWALSyncer` syncs the
    /// log beside it, telling `committed` of each transaction once it is on disk.
    public func drain<Batch: Sendable>(limit: Int, next: @escaping @Sendable () -> (batch: Batch, statements: [SQLStatement])?,
                                       committed: @escaping @Sendable (Batch, Result<[[SQLRow]], StoreError>) -> Void) async -> Bool {
        let syncer = self.syncer
        do {
            return try await pool.writeWithoutTransaction { db -> Bool in
                try Self.withoutWaitingForTheDisk(db) {
                    for _ in 0..<max(1, limit) {
                        guard let (batch, statements) = next() else { return true }
                        do {
                            let stored = try Self.commit(statements, in: db, .immediate)
                            syncer.afterSync { problem in committed(batch, problem.map { .failure($0) } ?? .success(stored)) }
                        } catch {
                            committed(batch, .failure(Self.map(error)))
                        }
                    }
                    return false
                }
            }
        } catch {
            // No write access at all (the pool is closed): every write waiting fails.
            while let (batch, _) = next() { committed(batch, .failure(Self.map(error))) }
            return true
        }
    }

    public func close() async {
        syncer.close()
        checkpointer.stop()
        try? pool.close()
    }

    /// Runs `body` with this connection's commits not waiting for the disk (`synchronous = NORMAL`);
    /// FULL again afterwards.
    private static func withoutWaitingForTheDisk<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.execute(sql: "PRAGMA synchronous = NORMAL")
        defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
        return try body()
    }

    /// Runs `statements` in one transaction of `kind` on `db`; each one's rows.
    private static func commit(_ statements: [SQLStatement], in db: Database, _ kind: Database.TransactionKind) throws -> [[SQLRow]] {
        var results: [[SQLRow]] = []
        try db.inTransaction(kind) {
            results = try statements.map { try run($0, in: db, cached: true) }
            return .commit
        }
        return results
    }

    /// Checks the file's integrity (`PRAGMA integrity_check`); the first problem, or nil.
    public func integrityProblem() async -> String? {
        let rows = try? await query(SQLStatement("PRAGMA integrity_check"))
        guard let first = rows?.first?.text(0) else { return "integrity_check returned nothing" }
        return first == "ok" ? nil : first
    }

    private static func isRead(_ sql: String) -> Bool {
        let head = sql.prefix(16).trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        return head.hasPrefix("SELECT") || head.hasPrefix("WITH") || head.hasPrefix("PRAGMA INTEGRITY")
    }

    /// `cached`: writes are the store's fixed templates, prepared once per connection and reused;
    /// reads vary with the caller's filters, so they are prepared each time (no unbounded cache).
    private static func run(_ statement: SQLStatement, in db: Database, cached: Bool) throws -> [SQLRow] {
        guard cached else { return try runUncached(statement, in: db) }
        // The store's own write templates: prepared once, values bound and rows read with SQLite's
        // C API directly (the ingest path; GRDB's argument boxing cost more than the insert itself).
        let prepared = try db.cachedStatement(sql: statement.sql)
        let handle = prepared.sqliteStatement
        sqlite3_reset(handle)
        // Texts are copied once into one buffer that outlives the steps and bound as SQLITE_STATIC
        // (nil destructor), where SQLITE_TRANSIENT made SQLite allocate and copy each (ten a event).
        // The bindings are cleared before the buffer goes.
        let textBytes = statement.binds.reduce(0) { if case .text(let v) = $1 { return $0 + v.utf8.count }; return $0 }
        let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(textBytes, 1), alignment: 1)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            arena.deallocate()
        }
        var offset = 0
        for (i, value) in statement.binds.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .int(let v): rc = sqlite3_bind_int64(handle, index, v)
            case .real(let v): rc = sqlite3_bind_double(handle, index, v)
            case .text(let v):
                let start = arena.baseAddress! + offset
                let count = v.utf8.count
                precondition(offset + count <= textBytes, "bound text outgrew its buffer")
                var text = v
                text.withUTF8 { utf8 in
                    if let source = utf8.baseAddress, !utf8.isEmpty { start.copyMemory(from: source, byteCount: min(utf8.count, count)) }
                }
                offset += count
                rc = sqlite3_bind_text(handle, index, start.assumingMemoryBound(to: CChar.self), Int32(count), nil)
            }
            guard rc == SQLITE_OK else { throw error(rc, db) }
        }
        var rows: [SQLRow] = []
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { return statement.countsChanges ? [SQLRow([.int(sqlite3_changes64(db.sqliteConnection))])] : rows }
            guard rc == SQLITE_ROW else { throw error(rc, db) }
            let columns = sqlite3_column_count(handle)
            rows.append(SQLRow((0..<columns).map { column -> SQLValue in
                switch sqlite3_column_type(handle, column) {
                case SQLITE_NULL: return .null
                case SQLITE_INTEGER: return .int(sqlite3_column_int64(handle, column))
                case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, column))
                default: return .text(sqlite3_column_text(handle, column).map { String(cString: $0) } ?? "")
                }
            }))
        }
    }

    private static func error(_ rc: Int32, _ db: Database) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) })
    }

    private static func runUncached(_ statement: SQLStatement, in db: Database) throws -> [SQLRow] {
        let arguments = StatementArguments(statement.binds.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: return nil
            case .int(let v): return v
            case .text(let v): return v
            case .real(let v): return v
            }
        })
        let cursor = try Row.fetchCursor(db.makeStatement(sql: statement.sql), arguments: arguments)
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            rows.append(SQLRow(row.databaseValues.map { value in
                switch value.storage {
                case .null: return .null
                case .int64(let v): return .int(v)
                case .double(let v): return .real(v)
                case .string(let v): return .text(v)
                case .blob(let d): return .text(String(decoding: d, as: UTF8.self))
                }
            }))
        }
        return statement.countsChanges ? [SQLRow([.int(Int64(db.changesCount))])] : rows
    }

    /// Disk full, I/O errors, a locked or read-only file: the store is unavailable (503), not broken.
    static func map(_ error: any Error) -> StoreError {
        guard let e = error as? DatabaseError else { return .failed("\(error)") }
        switch e.resultCode {
        case .SQLITE_FULL: return .unavailable("disk full (\(e.message ?? "SQLITE_FULL"))")
        case .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_NOMEM:
            return .unavailable(e.message ?? "\(e.resultCode)")
        case .SQLITE_CONSTRAINT: return .conflict(e.message ?? "constraint")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .failed("the database file is corrupt: \(e.message ?? "")")
        default: return .failed(e.message ?? "\(e)")
        }
    }
}
