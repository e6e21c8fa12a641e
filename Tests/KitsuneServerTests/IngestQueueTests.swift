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

    /// The flusher leaves once it finds nothing waiting, just after the last acknowledgement: within
    /// a second, not never (a flusher looping on a closed store would never).
    private func assertBecomesIdle(_ queue: IngestQueue, file: StaticString = #filePath, line: UInt = #line) async {
        for _ in 0..<100 where !queue.isIdle { try? await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(queue.isIdle, "the queue is still flushing", file: file, line: line)
    }
}
