import Foundation

/// A value bound into, or read out of, a SQL statement. The store uses only these types, so the same
/// statements run on SQLite and PostgreSQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case real(Double)

    /// The value as an integer, if it is one.
    public var int: Int64? { if case .int(let v) = self { return v }; return nil }
    /// The value as text, if it is text.
    public var text: String? { if case .text(let v) = self { return v }; return nil }
}

/// One result row, columns in the order the statement selected them.
public struct SQLRow: Sendable {
    public var values: [SQLValue]
    public init(_ values: [SQLValue]) { self.values = values }
    public subscript(_ i: Int) -> SQLValue { i < values.count ? values[i] : .null }
    /// Column `i` as an integer (0 when NULL or not an integer).
    public func int(_ i: Int) -> Int64 { self[i].int ?? 0 }
    /// Column `i` as text (nil when NULL).
    public func text(_ i: Int) -> String? { self[i].text }
}

/// A statement with `?` placeholders and the values bound to them, in order. SQL text is only ever
/// assembled from fixed fragments; every value an API caller supplies is a bind.
public struct SQLStatement: Sendable {
    public var sql: String
    public var binds: [SQLValue]
    /// For an INSERT, UPDATE or DELETE without RETURNING: the database answers one row holding how
    /// many rows the statement changed (SQLite asks `sqlite3_changes`, PostgreSQL counts the rows of
    /// the statement's RETURNING in a CTE), where RETURNING would have made and sent a row each.
    public var countsChanges: Bool
    /// The row this statement locks (an upsert's key), for a transaction made of several callers'
    /// statements (`IngestQueue`'s group commit): it runs them in this order, so two concurrent
    /// transactions lock shared rows in the same order and wait for each other instead of deadlocking.
    public var lockKey: String?
    public init(_ sql: String, _ binds: [SQLValue] = [], countsChanges: Bool = false, lockKey: String? = nil) {
        self.sql = sql
        self.binds = binds
        self.countsChanges = countsChanges
        self.lockKey = lockKey
    }
}

/// The few places where SQLite and PostgreSQL spell things differently.
public enum SQLDialect: String, Sendable {
    case sqlite, postgres

    /// SQL text with `?` placeholders rewritten for this dialect (`$1`, `$2`, … on PostgreSQL).
    /// `?` inside quoted literals is left alone.
    public func render(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        var out = "", n = 0, quoted = false
        out.reserveCapacity(sql.utf8.count + 16)
        for c in sql {
            if c == "'" { quoted.toggle() }
            if c == "?" && !quoted { n += 1; out += "$\(n)" } else { out.append(c) }
        }
        return out
    }

    /// Substring test: true when `needle` occurs in `column`, and the value to bind. PostgreSQL
    /// spells it `LIKE '%needle%'` (the needle's `%`, `_` and `\\` escaped, so it still matches only
    /// itself); SQLite scans with `instr`. The trigram indexes narrow the rows it tests.
    public func contains(column: String, needle: String) -> (sql: String, bind: SQLValue) {
        guard self == .postgres else { return ("instr(\(column), ?) > 0", .text(needle)) }
        var escaped = ""
        for c in needle {
            if c == "\\" || c == "%" || c == "_" { escaped.append("\\") }
            escaped.append(c)
        }
        return ("\(column) LIKE ? ESCAPE '\\'", .text("%" + escaped + "%"))
    }
}

/// Why the store could not do what was asked.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// The database cannot be reached or cannot write now (down, restarting, disk full): HTTP 503.
    case unavailable(String)
    /// A uniqueness or reference rule refused the change: HTTP 409.
    case conflict(String)
    /// Anything else: HTTP 500, and a bug to fix.
    case failed(String)

    public var description: String {
        switch self {
        case .unavailable(let m): return "store unavailable: \(m)"
        case .conflict(let m): return "conflict: \(m)"
        case .failed(let m): return "store error: \(m)"
        }
    }
}

/// The seam between the server and its database: SQLite (embedded, the default) or PostgreSQL
/// (shared by any number of server replicas).
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs one statement outside any explicit transaction and returns its rows.
    func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow]
    /// Runs `statements` in one transaction: all of them are committed before this returns, or none
    /// is. Returns each statement's rows. `durable`: the commit waits until it is on disk; without
    /// it (data derived from what is stored, which can be made again) a crash of the machine may
    /// undo the transaction as a whole, never part of it — and the next durable commit carries it
    /// to disk anyway (SQLite: `synchronous = NORMAL` for this commit; PostgreSQL:
    /// `synchronous_commit = off`).
    func transaction(_ statements: [SQLStatement], durable: Bool) async throws(StoreError) -> [[SQLRow]]
    /// Drains a queue of writes: runs durable transactions back to back, each of the statements
    /// `next` hands out, and tells `committed` each one's outcome before asking `next` again. Stops
    /// when `next` answers nil (returns true) or after `limit` transactions, so that other writers get
    /// their turn (returns false). The default runs `transaction` for each; SQLite keeps its writer
    /// for the whole drain, with no hop between commits.
    func drain<Batch: Sendable>(limit: Int, next: @escaping @Sendable () -> (batch: Batch, statements: [SQLStatement])?,
                                committed: @escaping @Sendable (Batch, Result<[[SQLRow]], StoreError>) -> Void) async -> Bool
    /// Releases connections.
    func close() async
}

extension SQLDatabase {
    /// Runs `statements` in one durable transaction.
    public func transaction(_ statements: [SQLStatement]) async throws(StoreError) -> [[SQLRow]] {
        try await transaction(statements, durable: true)
    }

    public func drain<Batch: Sendable>(limit: Int, next: @escaping @Sendable () -> (batch: Batch, statements: [SQLStatement])?,
                                       committed: @escaping @Sendable (Batch, Result<[[SQLRow]], StoreError>) -> Void) async -> Bool {
        for _ in 0..<max(1, limit) {
            guard let (batch, statements) = next() else { return true }
            do throws(StoreError) {
                committed(batch, .success(try await transaction(statements)))
            } catch {
                committed(batch, .failure(error))
            }
        }
        return false
    }

    /// Runs a statement and returns its first row, if any.
    public func first(_ statement: SQLStatement) async throws(StoreError) -> SQLRow? {
        try await query(statement).first
    }
}
