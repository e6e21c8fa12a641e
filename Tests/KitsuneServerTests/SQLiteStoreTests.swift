import Foundation
import XCTest
@testable import KitsuneServer

/// The embedded store's write-ahead log: copied into the database beside the writer, and bounded.
final class SQLiteStoreTests: XCTestCase {
    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// A few MB written in small commits stay below the writer's own checkpoint threshold (4 000
    /// pages): only the checkpointer copies them into the database file.
    func testTheCheckpointerCopiesTheLogIntoTheDatabase() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try SQLiteDatabase(directory: dir)
        _ = try await database.query(SQLStatement("CREATE TABLE blobs (x TEXT NOT NULL)"))
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
        let rows = try await database.query(SQLStatement("SELECT count(*), sum(length(x)) FROM blobs"))
        XCTAssertEqual(rows.first?.int(0), 64)
        assertNil(await database.integrityProblem())
        await database.close()
    }

    /// Sustained writes (the ingest path) do not grow the log without bound: it starts over once copied.
    func testTheLogStaysBoundedUnderSustainedWrites() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try SQLiteDatabase(directory: dir)
        _ = try await database.query(SQLStatement("CREATE TABLE blobs (x TEXT NOT NULL)"))
        let row = String(repeating: "w", count: 65_536)
        var largestLog = 0
        for i in 0..<256 {  // 64 MB, a MB a commit
            _ = try await database.transaction((0..<16).map { j in SQLStatement("INSERT INTO blobs (x) VALUES (?)", [.text(row + "\(i).\(j)")]) }, durable: true)
            largestLog = max(largestLog, fileSize(database.path + "-wal"))
        }
        XCTAssertLessThan(largestLog, 40 << 20, "the log reached \(largestLog) bytes for 64 MB written")
        XCTAssertGreaterThan(fileSize(database.path), 40 << 20)
        await database.close()
    }
}
