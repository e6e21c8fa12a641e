import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode (`synchronous = FULL`: a committed transaction
/// survives a crash of the process or of the machine). Writes are serialized by SQLite; reads run
/// concurrently with them.
public struct SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let pool: DatabasePool
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
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 8
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw Self.map(error)
        }
        chmod(path, 0o600)
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

    public func transaction(_ statements: [SQLStatement]) async throws(StoreError) -> [[SQLRow]] {
        do {
            return try await pool.write { db in try statements.map { try Self.run($0, in: db, cached: true) } }
        } catch {
            throw Self.map(error)
        }
    }

    public func close() async {
        try? pool.close()
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
        let arguments = StatementArguments(statement.binds.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: return nil
            case .int(let v): return v
            case .text(let v): return v
            case .real(let v): return v
            }
        })
        let prepared = cached ? try db.cachedStatement(sql: statement.sql) : try db.makeStatement(sql: statement.sql)
        let cursor = try Row.fetchCursor(prepared, arguments: arguments)
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
        return rows
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
