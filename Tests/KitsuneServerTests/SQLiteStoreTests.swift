import Foundation
import XCTest
@testable import KitsuneServer

/// The embedded store's write-ahead log: copied into the database beside the writer, and bounded.
final class SQLiteStoreTests: XCTestCase {
    private func blobStore() async throws -> (SQLiteDatabase, String) {
        try await temporarySQLiteStore("CREATE TABLE blobs (x TEXT NOT NULL)")
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// A couple of MB written in small commits stay below the writer's checkpoint threshold (1 000
    /// pages): only the checkpointer copies them into the database file.
    func testTheCheckpointerCopiesTheLogIntoTheDatabase() async throws {
        let (database, dir) = try await blobStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let row = String(repeating: "k", count: 32_768)
        for i in 0..<64 {
            _ = try await database.transaction([SQLStatement("INSERT INTO blobs (x) VALUES (?)", [.text(row + "\(i)")])], durable: true)
        }
        var size = fileSize(database.path)
        for _ in 0..<100 where size < 2_000_000 {
            try await Task.sleep(for: .milliseconds(50))
            size = fileSize(database.path)
        }
        XCTAssertGreaterThanOrEqual(size, 2_000_000, "the database file still lacks what the log holds")
        assertEqual(try await database.query(SQLStatement("SELECT count(*) FROM blobs")).first?.int(0), 64)
        assertNil(await database.integrityProblem())
        await database.close()
    }

    /// Sustained writes (the ingest path) do not grow the log without bound: the writer's checkpoint
    /// copies the rest of it and lets it start over, waiting for the checkpointer's rather than giving
    /// up when it finds that one copying (which, with the CPU taken, grew the log past 100 MB for 64 MB
    /// written: this test caught it while a CI run shared the cores).
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
