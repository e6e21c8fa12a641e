import Foundation
import XCTest
@testable import KitsuneServer

/// Group commit on the embedded store: the writer drains the queue itself and acknowledges each batch
/// once its transaction is on disk (`SQLiteWALSyncer`), with its own count.
final class IngestQueueTests: XCTestCase {
    private func store() async throws -> (SQLiteDatabase, String) {
        try await temporarySQLiteStore("CREATE TABLE items (k TEXT PRIMARY KEY)")
    }

    private static func insert(_ keys: [String]) -> SQLStatement {
        SQLStatement("INSERT INTO items (k) VALUES " + keys.map { _ in "(?)" }.joined(separator: ",") + " ON CONFLICT (k) DO NOTHING",
                     keys.map { .text($0) }, countsChanges: true)
    }

    private static func upsert(_ key: String) -> SQLStatement {
        SQLStatement("INSERT INTO locks (k, n) VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET n = locks.n + 1", [.text(key)], lockKey: key)
    }

    /// 64 concurrent batches, each half new and half already stored by the batch before it: every
    /// batch hears how many of its own rows were new, and what was acknowledged is in the file.
    func testEveryBatchIsAcknowledgedWithItsOwnCount() async throws {
        let (database, dir) = try await store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = IngestQueue(database: database)
        _ = try await queue.submit([Self.insert((0..<10).map { "b0-\($0)" })], insertCount: 1)
        let counts = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for b in 1...64 {
                group.addTask {
                    // Ten keys of its own, and `b` of batch 0's (already stored): two statements.
                    let own = Self.insert((0..<10).map { "b\(b)-\($0)" }), old = Self.insert((0..<min(b, 10)).map { "b0-\($0)" })
                    return (b, try await queue.submit([own, old], insertCount: 2))
                }
            }
            return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        XCTAssertEqual(counts.count, 64)
        XCTAssertTrue(counts.values.allSatisfy { $0 == 10 }, "\(counts.filter { $0.value != 10 })")
        assertEqual(try await database.query(SQLStatement("SELECT count(*) FROM items")).first?.int(0), 650)
        await assertBecomesIdle(queue)
        XCTAssertGreaterThan(queue.commits, 1)
        await database.close()
    }

    /// A store that cannot write any more (closed) fails the batches waiting, rather than leaving them
    /// waiting forever.
    func testBatchesFailWhenTheStoreCannotWrite() async throws {
        let (database, dir) = try await store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = IngestQueue(database: database)
        await database.close()
        do {
            _ = try await queue.submit([Self.insert(["late"])], insertCount: 1)
            XCTFail("a closed store took the batch")
        } catch {}
        await assertBecomesIdle(queue)
    }

    /// A log that cannot be synced is reported, naming it: the batches it held get a 503, not a 202.
    func testASyncThatFailsIsReportedWithTheLogsPath() async throws {
        let syncer = SQLiteWALSyncer(databasePath: "/nonexistent-kitsune/kitsune.sqlite3")
        let problem = await withCheckedContinuation { continuation in syncer.afterSync { continuation.resume(returning: $0) } }
        guard case .unavailable(let message)? = problem else { return XCTFail("no problem reported: \(String(describing: problem))") }
        XCTAssertTrue(message.contains("/nonexistent-kitsune/kitsune.sqlite3-wal"), message)
        syncer.close()
    }

    /// A commit of several batches runs every batch's inserts first, in order, then all the batches'
    /// other statements by `lockKey` (the fleet's upserts): two concurrent PostgreSQL commits then
    /// lock shared rows in one order. Each batch still hears its own count.
    func testAGroupCommitRunsInsertsFirstAndUpsertsInKeyOrder() async throws {
        let (sqlite, dir) = try await temporarySQLiteStore("CREATE TABLE items (k TEXT PRIMARY KEY)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await sqlite.query(SQLStatement("CREATE TABLE locks (k TEXT PRIMARY KEY, n INT)"))
        let database = HeldDatabase(sqlite)
        let queue = IngestQueue(database: database)
        // The first commit is held, so the three batches after it share the next one.
        let insertFirst = Self.insert(["first"])
        async let first = queue.submit([insertFirst], insertCount: 1)
        await database.waitForHeld()
        let batches = [(["a1", "a2"], ["i3", "i1"]), (["b1"], ["i2"]), (["c1", "a1"], ["i1", "i0"])]
            .map { keys, locks in [Self.insert(keys)] + locks.map(Self.upsert) }
        async let counts = withThrowingTaskGroup(of: (Int, Int).self) { group in
            for (b, statements) in batches.enumerated() {
                group.addTask { (b, try await queue.submit(statements, insertCount: 1)) }
                // One at a time into the queue, so the batches wait in this order.
                while queue.pendingBatches <= b { try await Task.sleep(for: .milliseconds(5)) }
            }
            // All three are waiting: the next commit takes them together.
            database.release()
            return try await group.reduce(into: [Int](repeating: 0, count: batches.count)) { $0[$1.0] = $1.1 }
        }
        assertEqual(try await first, 1)
        let got = try await counts
        XCTAssertEqual(got, [2, 1, 1], "a1 is new in the first batch only")
        let grouped = database.transactions.last ?? []
        XCTAssertEqual(grouped.map { $0.lockKey ?? "insert \($0.binds.count)" }, ["insert 2", "insert 1", "insert 2", "i0", "i1", "i1", "i2", "i3"])
        assertEqual(try await sqlite.query(SQLStatement("SELECT group_concat(k || '=' || n, ' ') FROM (SELECT * FROM locks ORDER BY k)")).first?.text(0),
                    "i0=1 i1=2 i2=1 i3=1")
        await sqlite.close()
    }

    /// The flusher leaves once it finds nothing waiting, just after the last acknowledgement: within
    /// a second, not never (a flusher looping on a closed store would never).
    private func assertBecomesIdle(_ queue: IngestQueue, file: StaticString = #filePath, line: UInt = #line) async {
        for _ in 0..<100 where !queue.isIdle { try? await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(queue.isIdle, "the queue is still flushing", file: file, line: line)
    }
}

/// A real database whose first transaction waits until `release()`, and which records the statements
/// of every transaction.
private final class HeldDatabase: SQLDatabase, @unchecked Sendable {
    let inner: any SQLDatabase
    private let lock = NSLock()
    private var held = true, holding = false, recorded: [[SQLStatement]] = []
    private var gate: CheckedContinuation<Void, Never>?
    init(_ inner: any SQLDatabase) { self.inner = inner }
    var dialect: SQLDialect { inner.dialect }
    var transactions: [[SQLStatement]] { lock.withLock { recorded } }

    func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] { try await inner.query(statement) }
    func transaction(_ statements: [SQLStatement], durable: Bool) async throws(StoreError) -> [[SQLRow]] {
        let wait = lock.withLock { recorded.append(statements); defer { held = false }; return held }
        if wait { await withCheckedContinuation { c in lock.withLock { gate = c; holding = true } } }
        return try await inner.transaction(statements, durable: durable)
    }
    func waitForHeld() async { while !lock.withLock({ holding }) { try? await Task.sleep(for: .milliseconds(5)) } }
    func release() { lock.withLock { gate }?.resume() }
    func close() async { await inner.close() }
}
