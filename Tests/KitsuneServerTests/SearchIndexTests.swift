import Foundation
import XCTest
@testable import KitsuneServer

/// SQLite's trigram index (migration 10) gives free text exactly what a scan gives — whatever its lag,
/// after retention, after SQLite reuses an id — and the indexer behind ingest catches up.
final class SearchIndexTests: XCTestCase {
    func testMatchQuotesEveryTrigramAndSpreadsLongNeedles() {
        XCTAssertNil(SearchIndexPlan.match("ab"), "shorter than a trigram: no index")
        XCTAssertEqual(SearchIndexPlan.match("abcd"), #""abc" "bcd""#)
        XCTAssertEqual(SearchIndexPlan.match(#"a"b"#), #""a""b""#, "a double quote is doubled, never query syntax")
        XCTAssertEqual(SearchIndexPlan.match("aaaa"), #""aaa""#, "each trigram once")
        XCTAssertEqual(SearchIndexPlan.match("🦊é\u{301}"), "\"🦊é\u{301}\"", "three Unicode scalars, as the tokenizer counts")
        let long = String((0..<60).map { Character(UnicodeScalar(0x4E00 + $0)!) })
        let tokens = SearchIndexPlan.match(long)!.split(separator: " ")
        XCTAssertEqual(tokens.count, SearchIndexPlan.maxTrigrams)
        XCTAssertEqual(tokens.first, "\"\(long.prefix(3))\"")
        XCTAssertEqual(tokens.last, "\"\(long.suffix(3))\"", "the needle's end is asked too")
    }

    func testCandidateLimitBalancesTheIndexAgainstAScan() {
        XCTAssertEqual(SearchIndexPlan.candidateLimit(listing: nil, stored: 1_000_000), SearchIndexPlan.maxCandidates,
                       "stats count every match: the widest bound")
        XCTAssertEqual(SearchIndexPlan.candidateLimit(listing: 100, stored: 1_000_000), 10_000, "√(100 × 1M)")
        XCTAssertEqual(SearchIndexPlan.candidateLimit(listing: 1000, stored: 1_000_000), 31_622)
        XCTAssertEqual(SearchIndexPlan.candidateLimit(listing: 1000, stored: 100_000_000), SearchIndexPlan.maxCandidates)
        XCTAssertEqual(SearchIndexPlan.candidateLimit(listing: 100, stored: 0), SearchIndexPlan.minListCandidates, "an empty store")
        XCTAssertEqual(SearchIndexPlan.candidateLimit(listing: 0, stored: -5), SearchIndexPlan.minListCandidates)
    }

    /// A needle in most events: a list scans (it meets the needle soon), stats read the candidates
    /// (they count every match); both answer as a scan does.
    func testCommonNeedleListsByScanAndCountsByIndex() async throws {
        let s = try await TestServer(.sqlite) { $0.searchIndexStep = 0 }
        do {
            let g = try await s.group()
            for start in stride(from: 0, to: 1200, by: 200) {
                let batch = (start..<start + 200).map {
                    sampleEvent(["argv": [$0 % 12 == 0 ? "rare-needle-\($0)" : "everywhere-\($0)"], "instance_id": "c", "seq": $0])
                }
                assertEqual(try await s.post(batch, token: g.token).status, 202)
            }
            while try await s.store.indexSearchText(limit: 500) > 0 {}
            var common = EventFilter()
            common.text = "everywhere"
            assertEqual(try await s.store.eventSource(common, listing: 100).sql, "events", "1 100 matches of 1 200: a list scans")
            assertTrue(try await s.store.eventSource(common).sql.contains("events_fts"), "stats count through the index")
            var rare = EventFilter()
            rare.text = "rare-needle"
            assertTrue(try await s.store.eventSource(rare, listing: 100).sql.contains("events_fts"), "100 matches: the candidates")
            assertEqual(try await s.events("q=everywhere&limit=500").count, 500)
            assertEqual(try await s.events("q=rare-needle&limit=500").count, 100)
            let stats = try await s.json("GET", "/api/v1/events/stats?group_by=reason&q=everywhere")
            assertEqual(stats.status, 200)
            assertEqual(stats.object["total"] as? Int, 1100)
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// Hostile texts (FTS5 syntax, quotes, Unicode) and needles cut out of them at random: the list
    /// (every page), the stats and the plan agree with a scan of the rows at every stage.
    func testIndexAnswersAsTheScanDoesAtEveryStage() async throws {
        let s = try await TestServer(.sqlite) { $0.searchIndexStep = 0 }
        do {
            let g = try await s.group()
            var rng = SplitMix(seed: 11)
            let events = FreeTextOracle.events(300, rng: &rng, instance: { "i\($0 % 3)" }, spanSeconds: 100_000)
            for start in stride(from: 0, to: 300, by: 100) {
                assertEqual(try await s.post(Array(events[start..<start + 100]), token: g.token).status, 202)
            }
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "nothing indexed")
            assertEqual(try await s.store.indexSearchText(limit: 120), 120)
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "120 of 300 indexed")
            while try await s.store.indexSearchText(limit: 77) > 0 {}
            assertEqual(try await s.store.searchIndexLag(), 0)
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "all indexed")
            var rare = EventFilter()
            rare.text = "kitsune"
            assertTrue(try await s.store.eventSource(rare).sql.contains("events_fts"), "a rare needle reads the index's candidates")
            rare.text = "ki"
            assertEqual(try await s.store.eventSource(rare).sql, "events", "two characters: a scan")

            // Retention removes events from the index with their rows (SQLite's own check of the
            // index passes), and the newest rows deleted make SQLite hand their ids out again.
            while try await s.store.pruneEvents(olderThan: 1_764_000_000_000 + 40_000_000, limit: 23) == 23 {}
            try await checkIndexIntegrity(s.store)
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "after retention")
            let top = try await s.store.database.first(SQLStatement("SELECT MAX(id) FROM events"))!.int(0)
            _ = try await s.store.database.transaction([SQLStatement("DELETE FROM events WHERE id > ?", [.int(top - 10)])])
            let reused = (0..<5).map { sampleEvent(["argv": ["reused-id-needle \($0)"], "instance_id": "reuse", "seq": $0]) }
            assertEqual(try await s.post(reused, token: g.token).status, 202)
            let firstNew = try await s.store.database.first(SQLStatement("SELECT MIN(id) FROM events WHERE instance_id = 'reuse'"))!.int(0)
            assertTrue(firstNew <= top, "SQLite reused an id (\(firstNew) ≤ \(top))")
            var needle = EventFilter()
            needle.text = "reused-id-needle"
            assertEqual(try await s.store.events(needle, limit: 10, after: nil).events.count, 5, "events with reused ids are found")
            while try await s.store.indexSearchText(limit: 50) > 0 {}
            try await checkIndexIntegrity(s.store)
            assertEqual(try await s.store.events(needle, limit: 10, after: nil).events.count, 5)
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "ids reused, indexed again")
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// The indexer runs inside the server and catches up with what was posted; `q` over HTTP finds an
    /// event whatever the index's progress.
    func testServerIndexesBehindIngest() async throws {
        let s = try await TestServer(.sqlite) { $0.searchIndexStep = 100 }
        do {
            let g = try await s.group()
            for round in 0..<5 {
                let batch = (0..<200).map { sampleEvent(["argv": ["/bin/sh", "-c", "token-\(round)-\($0) && exit"], "instance_id": "r\(round)", "seq": $0]) }
                assertEqual(try await s.post(batch, token: g.token).status, 202)
                assertEqual(try await s.events("q=token-\(round)-199+%26%26").count, 1)
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while try await s.store.searchIndexLag() > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            assertEqual(try await s.store.searchIndexLag(), 0, "the indexer caught up")
            assertEqual(try await s.events("q=token-3-17+").count, 1)
            assertEqual(try await s.events("q=TOKEN-4-1&limit=500").count, 111, "token-4-1, -10…19 and -100…199")
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// PostgreSQL: the pending list of the index of trigram codes is merged by the server beside
    /// ingest (migrations 12 and 13), and `q` finds the events wherever they are (pending list or
    /// index proper).
    func testPostgresMergesThePendingListBesideIngest() async throws {
        let s = try await TestServer(.postgres)
        do {
            let options = try await s.store.database.first(SQLStatement(
                "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = to_regclass('events_search_codes')"))?.text(0)
            assertEqual(options, "gin_pending_list_limit=65536")
            let g = try await s.group()
            let batch = (0..<500).map { sampleEvent(["argv": ["/bin/sh", "-c", "pending-\($0)-x"], "instance_id": "p", "seq": $0]) }
            assertEqual(try await s.post(batch, token: g.token).status, 202)
            assertEqual(try await s.events("q=pending-417-").count, 1, "found in the pending list")
            var merged = 0
            let deadline = ContinuousClock.now + .seconds(15)
            while merged == 0 && ContinuousClock.now < deadline {
                let metrics = String(decoding: try await s.request("GET", "/metrics").body, as: UTF8.self)
                merged = metrics.split(separator: "\n").first { $0.hasPrefix("kitsune_search_pending_pages_merged_total ") }
                    .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
                if merged == 0 { try await Task.sleep(for: .milliseconds(200)) }
            }
            XCTAssertGreaterThan(merged, 0, "the server never merged the pending list")
            assertEqual(try await s.store.mergeSearchPendingList(), 0, "nothing left pending")
            assertEqual(try await s.events("q=pending-417-").count, 1, "found in the index proper")
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    // MARK: Helpers

    private func checkIndexIntegrity(_ store: ServerStore) async throws {
        _ = try await store.database.transaction([SQLStatement("INSERT INTO events_fts (events_fts) VALUES ('integrity-check')")])
        let indexed = try await store.database.first(SQLStatement(
            "SELECT COUNT(*) FROM events WHERE id <= (SELECT through FROM search_index WHERE name = 'events')"))!.int(0)
        let inIndex = try await store.database.first(SQLStatement("SELECT COUNT(*) FROM events_fts"))!.int(0)
        assertEqual(inIndex, indexed, "the index holds exactly the events up to its watermark")
    }
}
