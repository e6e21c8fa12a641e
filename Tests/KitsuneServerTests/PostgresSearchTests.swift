import Foundation
import XCTest
@testable import KitsuneServer

/// PostgreSQL's trigram chunks behind ingest (migration 13): the codes, the queue, the indexer, the
/// ways a query reads (the newest events first, or the candidates), retention, and an upgrade from
/// schema 12.
final class PostgresSearchTests: XCTestCase {
    /// Hostile texts, needles cut out of them at random, pages of 7: every way of reading gives what a
    /// scan of the rows gives, with nothing, part and all of the events indexed, and after retention.
    func testEveryWayAnswersAsTheScanDoesAtEveryStage() async throws {
        let s = try await TestServer(.postgres) { $0.searchIndexStep = 0 }
        do {
            let g = try await s.group()
            var rng = SplitMix(seed: 13)
            let pieces = [#"say "hi" now"#, #""""#, "AND", "NEAR(a b, 3)", "^start", "pre*", "🦊 kitsune", "é\u{301}t\u{e9}",
                          "日本語のテキスト", "%_\\", "it's", "curl -o /tmp/m http://203.0.113.9/m", "a\tb", "x-y_z", "AaA", "'; DROP TABLE events; --"]
            var events: [[String: Any]] = []
            for i in 0..<240 {
                let argv = (0..<rng.next(in: 1..<4)).map { _ in pieces[rng.next(in: 0..<pieces.count)] + "\(rng.next(in: 0..<40))" }
                events.append(sampleEvent(["argv": argv, "executable": "/tmp/x\(i % 13)", "instance_id": "i\(i % 3)", "seq": i,
                                           "time": Timestamps.format(1_764_000_000_000 + Int64(rng.next(in: 0..<60)) * 1000),
                                           "function_name": ["api", "worker"][i % 2]]))
            }
            for start in stride(from: 0, to: 240, by: 80) {
                assertEqual(try await s.post(Array(events[start..<start + 80]), token: g.token).status, 202)
            }
            assertEqual(try await s.store.searchIndexLag(), 240, "every new event is queued")
            try await compare(s.store, rng: &rng, stage: "nothing indexed")
            assertEqual(try await s.store.indexSearchText(limit: 100), 100)
            try await compare(s.store, rng: &rng, stage: "100 of 240 indexed")
            while try await s.store.indexSearchText(limit: 57) > 0 {}
            assertEqual(try await s.store.searchIndexLag(), 0)
            try await compare(s.store, rng: &rng, stage: "all indexed")

            // Retention takes events out of the index and the queue with their rows.
            let more = (0..<30).map { sampleEvent(["argv": ["queued-\($0)"], "instance_id": "late", "seq": $0,
                                                   "time": Timestamps.format(1_764_000_000_000 + Int64($0) * 1000)]) }
            assertEqual(try await s.post(more, token: g.token).status, 202)
            while try await s.store.pruneEvents(olderThan: 1_764_000_030_000, limit: 19) == 19 {}
            try await checkConsistency(s.store)
            try await compare(s.store, rng: &rng, stage: "after retention")
            while try await s.store.indexSearchText(limit: 50) > 0 {}
            try await checkConsistency(s.store)
            assertEqual(try await s.store.searchIndexLag(), 0)
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// The server's own indexer empties the queue behind ingest and merges the pending list; `q` over
    /// HTTP finds an event queued or indexed. The old index on `events` itself is gone.
    func testServerIndexesBehindIngest() async throws {
        let s = try await TestServer(.postgres) { $0.searchIndexStep = 40 }
        do {
            let options = try await s.store.database.first(SQLStatement(
                "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = to_regclass('search_chunks_codes')"))?.text(0)
            assertEqual(options, "gin_pending_list_limit=65536")
            assertEqual(try await s.store.database.first(SQLStatement("SELECT to_regclass('events_search_trgm') IS NULL"))?.int(0), 1,
                        "no trigram index inside the ingest transaction")
            let g = try await s.group()
            for round in 0..<3 {
                let batch = (0..<300).map { sampleEvent(["argv": ["/bin/sh", "-c", "token-\(round)-\($0) && exit"], "instance_id": "r\(round)", "seq": $0]) }
                assertEqual(try await s.post(batch, token: g.token).status, 202)
                assertEqual(try await s.events("q=token-\(round)-299+%26%26").count, 1)
            }
            let deadline = ContinuousClock.now + .seconds(30)
            var merged = 0
            while ContinuousClock.now < deadline {
                let metrics = String(decoding: try await s.request("GET", "/metrics").body, as: UTF8.self)
                merged = metrics.split(separator: "\n").first { $0.hasPrefix("kitsune_search_pending_pages_merged_total ") }
                    .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
                if try await s.store.searchIndexLag() == 0 && merged > 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            assertEqual(try await s.store.searchIndexLag(), 0, "the indexer caught up")
            XCTAssertGreaterThan(merged, 0, "the server merged the pending list")
            let chunks = try await s.store.database.first(SQLStatement("SELECT COUNT(*), SUM(cardinality(ids)) FROM search_chunks"))
            assertEqual(chunks?.int(1), 900, "every event in a chunk")
            let chunkCount: Int64 = chunks?.int(0) ?? 0
            XCTAssertLessThanOrEqual(chunkCount, Int64(900 / PostgresSearchPlan.chunkSize + 9), "chunks of up to 100 (steps of 200)")
            assertEqual(try await s.events("q=token-2-17+").count, 1)
            assertEqual(try await s.events("q=TOKEN-1-1&limit=500").count, 111, "token-1-1, -10…19 and -100…199")
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// A database at schema 12 with events: migration 13 drops pg_trgm's index and queues them, the
    /// indexer takes them, and new ones queue.
    func testUpgradeIndexesTheStoredEvents() async throws {
        let database = try PostgresDatabase(url: try PostgresCluster.newDatabase())
        do {
            let all = try Migrations.bundled(for: .postgres)
            try await Migrations.apply(to: database, migrations: all.filter { $0.version < 13 })
            let rows = (0..<50).map { i in
                SQLStatement("INSERT INTO events (group_id, dedup_key, time_ms, received_ms, action, search, body) VALUES ('g', ?, ?, 0, 'blocked', ?, '{}')",
                             [.text("k\(i)"), .int(1_764_000_000_000 + Int64(i)), .text("stored-before-\(i)")])
            }
            _ = try await database.transaction(rows)
            assertEqual(try await Migrations.apply(to: database), [13])
            assertEqual(try await database.first(SQLStatement("SELECT to_regclass('events_search_trgm') IS NULL"))?.int(0), 1,
                        "the trigram index on events is gone")
            let store = ServerStore(database: database)
            assertEqual(try await store.searchIndexLag(), 50, "the stored events are queued")
            var filter = EventFilter()
            filter.text = "stored-before-4"
            assertEqual(try await store.events(filter, limit: 100, after: nil).events.count, 11, "found in the queue")
            assertEqual(try await store.indexSearchText(limit: 1000), 50)
            assertEqual(try await store.searchIndexLag(), 0)
            assertEqual(try await store.events(filter, limit: 100, after: nil).events.count, 11, "found in the chunks")
            _ = try await database.transaction([SQLStatement(
                "INSERT INTO events (group_id, dedup_key, time_ms, received_ms, action, search, body) VALUES ('g', 'new', 0, 0, 'blocked', 'stored-after', '{}')")])
            assertEqual(try await store.searchIndexLag(), 1)
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    // MARK: Helpers

    /// For random needles: pages through the list as the API does, from the newest events first with a
    /// probe of 5 (so that pages also fall back to the candidates), and from the candidates alone;
    /// stats from the candidates and by the chosen way. All equal a scan.
    private func compare(_ store: ServerStore, rng: inout SplitMix, stage: String) async throws {
        let fixed = ["zzz-absent", #""""#, "and", "near(", "🦊 k", "e\u{301}t", "のテ", "%_\\", "it'", "/tmp/m h", "'; drop", "_z"]
        for filter in try await SearchOracle.filters(store, fixed: fixed, count: 25, rng: &rng) {
            let needle = filter.text!
            let expected = try await SearchOracle.scan(store, filter)
            let label = "[\(stage)] q=\(needle.debugDescription) \(filter.exact)"
            var api: [Int64] = [], probed: [Int64] = [], candidates: [Int64] = []
            var cursor: EventCursor?
            repeat {
                let page = try await store.events(filter, limit: 7, after: cursor)
                api += page.events.map(\.id)
                cursor = page.next
            } while cursor != nil
            assertEqual(api, expected, "\(label): the API's pages")
            guard let search = try await store.postgresSearch(filter) else {
                assertTrue(needle.unicodeScalars.count < 3, "\(label): the index serves every needle of a trigram or more")
                continue
            }
            cursor = nil
            repeat {
                let rows = try await store.postgresTextPage(filter, limit: 8, after: cursor, probe: 5) ?? []
                probed += rows.prefix(7).map { $0.int(0) }
                cursor = rows.count > 7 ? EventCursor(timeMs: rows[6].int(1), id: rows[6].int(0)) : nil
            } while cursor != nil
            assertEqual(probed, expected, "\(label): pages probing 5 events first")
            let source = PostgresSearchPlan.candidatesSource(codes: search.codes)
            cursor = nil
            repeat {
                let rows = try await store.database.query(store.listStatement(filter, limit: 8, after: cursor, from: source))
                candidates += rows.prefix(7).map { $0.int(0) }
                cursor = rows.count > 7 ? EventCursor(timeMs: rows[6].int(1), id: rows[6].int(0)) : nil
            } while cursor != nil
            assertEqual(candidates, expected, "\(label): pages of the candidates")
            let (condition, binds) = filter.condition(.postgres)
            for way in [source, try await store.postgresStatsSource(filter, probe: 5), try await store.postgresStatsSource(filter)] {
                let count = try await store.database.first(SQLStatement("SELECT COUNT(*) FROM \(way.sql) \(condition)", way.binds + binds))?.int(0)
                assertEqual(count, Int64(expected.count), "\(label): counted from \(way.sql.prefix(40))")
            }
            assertEqual(try await store.stats(filter, by: .function).total, Int64(expected.count), "\(label): stats")
        }
    }

    /// Every event is in exactly one of the chunks and the queue, the queue holds only events, and a
    /// chunk's codes hold every trigram of its events' text.
    private func checkConsistency(_ store: ServerStore) async throws {
        let row = try await store.database.first(SQLStatement("""
            SELECT (SELECT COUNT(*) FROM events),
                   (SELECT COUNT(*) FROM (SELECT unnest(ids) AS id FROM search_chunks) c JOIN events e ON e.id = c.id),
                   (SELECT COUNT(*) FROM search_queue q JOIN events e ON e.id = q.id),
                   (SELECT COUNT(*) FROM search_queue),
                   (SELECT COUNT(*) FROM (SELECT unnest(ids) AS id FROM search_chunks) c JOIN search_queue q ON q.id = c.id),
                   (SELECT COUNT(*) - COUNT(DISTINCT id) FROM (SELECT unnest(ids) AS id FROM search_chunks) c)
            """))
        let v = (0..<6).map { row?.int($0) ?? -1 }
        assertEqual(v[1] + v[2], v[0], "every event in a chunk or queued")
        assertEqual(v[3], v[2], "nothing queued of deleted events")
        assertEqual(v[4], 0, "no event both in a chunk and queued")
        assertEqual(v[5], 0, "no event in two chunks")
        for chunk in try await store.database.query(SQLStatement("SELECT array_to_string(ids, ','), array_to_string(codes, ',') FROM search_chunks")) {
            let codes = Set((chunk.text(1) ?? "").split(separator: ",").compactMap { Int32($0) })
            let ids = (chunk.text(0) ?? "").split(separator: ",").compactMap { Int64($0) }
            for id in ids {
                guard let text = try await store.database.first(SQLStatement("SELECT search FROM events WHERE id = ?", [.int(id)]))?.text(0) else { continue }
                var own = Set<Int32>()
                PostgresSearchPlan.trigramCodes(text, into: &own)
                assertTrue(own.isSubset(of: codes), "chunk codes hold event \(id)'s trigrams")
            }
        }
    }

    /// The codes: three scalars each (not bytes), the same for a needle as for the text it is cut from,
    /// and stable (they are stored).
    func testTrigramCodes() {
        var codes = Set<Int32>()
        PostgresSearchPlan.trigramCodes("ab", into: &codes)
        assertTrue(codes.isEmpty, "shorter than a trigram")
        PostgresSearchPlan.trigramCodes("🦊kit", into: &codes)
        assertEqual(codes.count, 2, "🦊ki and kit: no windows of bytes")
        assertEqual(PostgresSearchPlan.code(0x61, 0x62, 0x63), PostgresSearchPlan.code(0x61, 0x62, 0x63))
        assertEqual(PostgresSearchPlan.code(0x61, 0x62, 0x63), -1_252_178_413, "the stored codes do not change between builds")
        assertTrue(PostgresSearchPlan.code(0x61, 0x62, 0x63) != PostgresSearchPlan.code(0x63, 0x62, 0x61))
        let needle = PostgresSearchPlan.needleCodes("kit")
        assertEqual(needle, "{\(PostgresSearchPlan.code(0x6B, 0x69, 0x74))}")
        assertEqual(PostgresSearchPlan.needleCodes("ki"), nil)
        let long = PostgresSearchPlan.needleCodes(String(repeating: "abcdefghij", count: 10))!
        XCTAssertLessThanOrEqual(long.split(separator: ",").count, SearchIndexPlan.maxTrigrams)
    }
}
