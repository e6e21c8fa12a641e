import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The shared store: PostgreSQL (15 and later), for any number of server replicas. The connection
/// pool reconnects by itself: while the database is down, calls fail with `.unavailable` (HTTP 503)
/// and the server recovers when it is back, without a restart.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|require]`, or
    /// `postgres://USER@/DB?host=/socket/dir` for a Unix socket).
    public init(url: String, logger: Logger = Logger(label: "kitsune.postgres")) throws(StoreError) {
        let configuration = try Self.configuration(from: url)
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// How long a call may wait for a connection. The pool queues callers while the database is
    /// down; past this they get `.unavailable` (503) instead of a request that hangs. Work already
    /// running on a connection is not cut short (a large commit may take longer).
    public let deadline: Duration = .seconds(5)

    public func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] {
        do {
            let query = try Self.query(statement, dialect)
            return try await onConnection { [logger] connection in try await Self.rows(connection.query(query, logger: logger)) }
        } catch {
            throw Self.map(error)
        }
    }

    public func transaction(_ statements: [SQLStatement], durable: Bool) async throws(StoreError) -> [[SQLRow]] {
        do {
            let lazy = durable ? [] : [SQLStatement("SET LOCAL synchronous_commit = off")]
            let queries = try (lazy + statements).map { try Self.query($0, dialect) }
            return try await onConnection { [logger] connection in
                try await connection.withTransaction(logger: logger) { connection in
                    var results: [[SQLRow]] = []
                    for query in queries {
                        results.append(try await Self.rows(connection.query(query, logger: logger)))
                    }
                    return Array(results.dropFirst(lazy.count))
                }
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// A call's lease: waiting for a connection, then either working on it or given up. Exactly one
    /// of the two transitions happens, so work given up at its deadline never starts later.
    private final class Lease: Sendable {
        private enum State { case waiting, working(PostgresConnection), finished, abandoned }
        private let state = Mutex(State.waiting)
        /// Waiting → working on `connection`; false when the call was given up.
        func start(on connection: PostgresConnection) -> Bool {
            state.withLock { s in guard case .waiting = s else { return false }; s = .working(connection); return true }
        }
        /// Working → finished: the answer is in, whatever becomes of the connection.
        func finish() { state.withLock { s in if case .working = s { s = .finished } } }
        /// Waiting → given up; false when the work had started.
        func abandon() -> Bool { state.withLock { s in guard case .waiting = s else { return false }; s = .abandoned; return true } }
        /// Working on a connection that has closed since.
        var lostConnection: Bool { state.withLock { s in if case .working(let c) = s { return c.isClosed }; return false } }
    }

    /// A continuation resumed once, by whichever finishes first: the work, the deadline or the
    /// caller's cancellation — also one that came before the continuation existed (a caller already
    /// cancelled has its cancellation handler run first).
    private final class Race<T: Sendable>: Sendable {
        private enum State { case empty, waiting(CheckedContinuation<T, any Error>), finished(Result<T, any Error>), done }
        private let state = Mutex(State.empty)
        func start(_ c: CheckedContinuation<T, any Error>) {
            state.withLock { s in
                if case .finished(let result) = s { c.resume(with: result); s = .done } else { s = .waiting(c) }
            }
        }
        /// The caller has its answer (the timer stops watching).
        var isFinished: Bool { state.withLock { s in if case .done = s { return true }; if case .finished = s { return true }; return false } }
        func finish(_ result: Result<T, any Error>) {
            state.withLock { s in
                switch s {
                case .empty: s = .finished(result)
                case .waiting(let c): c.resume(with: result); s = .done
                case .finished, .done: break
                }
            }
        }
    }

    /// Runs `body` on a leased connection; gives up with `.unavailable` if no connection is leased
    /// within `deadline`, or, once working, when the connection has closed under the call. The lease
    /// and the work run in a task of their own, cancelled then or when the caller is, and the caller
    /// does not wait for that cancellation to be answered: when PostgreSQL stopped abruptly, a call
    /// could wait for ever, and a server stopping then (SIGTERM during an outage) with it. A query
    /// whose connection closed under it was never answered by postgres-nio (seen: 4 requests of 8
    /// in flight when PostgreSQL stopped, and every one of five shutdowns after that, waited for
    /// ever). Work on a live connection is waited for however long it takes (a large commit, a
    /// migration). A 503 for a commit that did happen is safe: the retry is deduplicated.
    private func onConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let lease = Lease(), race = Race<T>()
        let client = self.client, deadline = self.deadline
        let work = Task {
            try await client.withConnection { connection in
                guard lease.start(on: connection) else { throw CancellationError() }
                defer { lease.finish() }
                return try await body(connection)
            }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let timer = Task {
                    let giveUp = ContinuousClock.now + deadline
                    while !race.isFinished {
                        try await Task.sleep(for: .milliseconds(250))
                        if ContinuousClock.now >= giveUp, lease.abandon() {
                            work.cancel()
                            race.finish(.failure(StoreError.unavailable("PostgreSQL gave no connection within \(deadline)")))
                            return
                        }
                        // Working: the answer is waited for as long as the connection lives.
                        if lease.lostConnection {
                            work.cancel()
                            race.finish(.failure(StoreError.unavailable("PostgreSQL closed the connection during the call")))
                            return
                        }
                    }
                }
                Task {
                    let result = await work.result
                    timer.cancel()
                    race.finish(result)
                }
            }
        } onCancel: {
            // Not waiting for the pool to answer (it may never, see above): the caller goes now. Work
            // that has started is cancelled but may still finish (a commit then stands).
            _ = lease.abandon()
            work.cancel()
            race.finish(.failure(CancellationError()))
        }
    }

    public func close() async {
        runner.cancel()
    }

    private static func query(_ statement: SQLStatement, _ dialect: SQLDialect) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: statement.binds.count)
        for value in statement.binds {
            switch value {
            case .null: binds.appendNull()
            case .int(let v): try binds.append(v)
            case .text(let v): try binds.append(v)
            case .real(let v): try binds.append(v)
            }
        }
        let sql = statement.countsChanges ? "WITH changed AS (\(statement.sql) RETURNING 1) SELECT count(*) FROM changed" : statement.sql
        return PostgresQuery(unsafeSQL: dialect.render(sql), binds: binds)
    }

    private static func rows(_ sequence: PostgresRowSequence) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for try await row in sequence {
            var values: [SQLValue] = []
            values.reserveCapacity(row.count)
            for cell in row {
                guard cell.bytes != nil else { values.append(.null); continue }
                switch cell.dataType {
                case .int2, .int4, .int8: values.append(.int(try cell.decode(Int64.self)))
                case .float4, .float8: values.append(.real(try cell.decode(Double.self)))
                case .bool: values.append(.int(try cell.decode(Bool.self) ? 1 : 0))
                default: values.append(.text(try cell.decode(String.self)))
                }
            }
            rows.append(SQLRow(values))
        }
        return rows
    }

    /// Connection trouble, a server shutting down or out of disk: 503. Constraint violations: 409.
    static func map(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        // withTransaction wraps what failed (BEGIN, a statement, COMMIT): map that.
        if let t = error as? PostgresTransactionError, let inner = t.closureError ?? t.commitError ?? t.beginError {
            return map(inner)
        }
        guard let e = error as? PSQLError else {
            if error is CancellationError { return .unavailable("cancelled") }
            return .unavailable("\(error)")
        }
        if e.code == .server, let state = e.serverInfo?[.sqlState] {
            let message = e.serverInfo?[.message] ?? state
            switch state.prefix(2) {
            case "08", "53", "57", "58": return .unavailable("\(message) (SQLSTATE \(state))")
            case "23": return .conflict("\(message) (SQLSTATE \(state))")
            case "40": return .unavailable("\(message) (SQLSTATE \(state)); retry")
            default: return .failed("\(message) (SQLSTATE \(state))")
            }
        }
        return .unavailable("PostgreSQL: \(e.code)")
    }

    /// Parses a `postgres://` URL; names the part that is wrong.
    static func configuration(from text: String) throws(StoreError) -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            throw .failed("--database \(text): not a postgres:// URL")
        }
        guard let user = url.user, !user.isEmpty else { throw .failed("--database: the URL names no user (postgres://USER@HOST/DB)") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw .failed("--database: the URL names no database (postgres://USER@HOST/DB)") }
        let items = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        var configuration: PostgresClient.Configuration
        if let socketDirectory = items["host"], socketDirectory.hasPrefix("/") {
            let port = url.port ?? 5432
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user,
                                  password: url.password, database: database)
        } else {
            guard let host = url.host, !host.isEmpty else { throw .failed("--database: the URL names no host") }
            let tls: PostgresClient.Configuration.TLS
            switch items["sslmode"] ?? "prefer" {
            case "disable": tls = .disable
            case "require", "verify-full": tls = .require(.makeClientConfiguration())
            case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
            case let other: throw .failed("--database: sslmode=\(other) is not one of disable, prefer, require, verify-full")
            }
            configuration = .init(host: host, port: url.port ?? 5432, username: user, password: url.password,
                                  database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 16
        return configuration
    }
}
