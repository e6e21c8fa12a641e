import Foundation
import XCTest
@testable import KitsuneServer

/// The embedded store's write-ahead log stays bounded under sustained writes.
final class SQLiteStoreTests: XCTestCase {
    /// A new store in a temporary directory (the caller removes it), with a table of texts.
    private func blobStore() async throws -> (SQLiteDatabase, String) {
        let dir = try makeTemporaryDirectory()
        let database = try SQLiteDatabase(directory: dir)
        _ = try await database.query(SQLStatement("CREATE TABLE blobs (x TEXT NOT NULL)"))
        return (database, dir)
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Sustained writes (the ingest path) do not grow the log without bound: SQLite's checkpoint in
    /// the writer copies it and lets it start over. (A checkpointer on a thread of its own, tried for
    /// speed, made the writer's checkpoint give up whenever it found that one copying: the log grew
    /// past 100 MB for 64 MB written, which this test caught.)
    func testTheLogStaysBoundedUnderSustainedWrites() async throws {
        let (database, dir) = try await blobStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let row = String(repeating: "w", count: 65_536)
        var largestLog = 0
        for i in 0..<384 {  // 96 MB, a MB a commit
            _ = try await database.transaction((0..<16).map { j in SQLStatement("INSERT INTO blobs (x) VALUES (?)", [.text(row + "\(i).\(j)")]) }, durable: true)
            largestLog = max(largestLog, fileSize(database.path + "-wal"))
        }
        XCTAssertLessThan(largestLog, 48 << 20, "the log reached \(largestLog) bytes for 96 MB written")
        XCTAssertGreaterThan(fileSize(database.path), 48 << 20)
        await database.close()
    }
}
