import Foundation
import XCTest
@testable import KitsuneServer

/// PostgreSQL's free text through trigram codes stored with each event, less the stop codes
/// (migration 13): the codes themselves, exact answers at every stage (no stop codes, stop codes, a
/// server whose copy of them is stale, events without codes), and an upgrade from schema 12.
final class PostgresSearchTests: XCTestCase {
    func testCodesCoverEverySubstringOfThreeScalarsOrMore() {
        var rng = SplitMix(seed: 5)
        let alphabet = Array("ab-/ %_\\'\"🦊é\u{301}日本x9".unicodeScalars)
        for _ in 0..<200 {
            var view = String.UnicodeScalarView()
            for _ in 0..<rng.next(in: 3..<40) { view.append(alphabet[rng.next(in: 0..<alphabet.count)]) }
            let text = String(view), scalars = Array(view)
            let codes = Set(PostgresSearchPlan.codes(text, excluding: []))
            let start = rng.next(in: 0..<(scalars.count - 2)), length = rng.next(in: 3..<(scalars.count - start + 1))
            var needle = String.UnicodeScalarView()
            needle.append(contentsOf: scalars[start..<start + length])
            let asked = PostgresSearchPlan.needleCodes(String(needle), excluding: [])
            XCTAssertFalse(asked.isEmpty)
            XCTAssertTrue(Set(asked).isSubset(of: codes), "\(String(needle).debugDescription) in \(text.debugDescription)")
        }
        let all = PostgresSearchPlan.codes("abcabcd", excluding: [])
        XCTAssertEqual(all, all.sorted(), "ascending")
        XCTAssertEqual(all.count, 4, "abc, bca, cab, bcd: each once")
        let stop = Set(PostgresSearchPlan.codes("abc", excluding: []))
        XCTAssertEqual(PostgresSearchPlan.codes("abcabcd", excluding: stop).count, 3, "a stop code is left out")
        XCTAssertEqual(PostgresSearchPlan.needleCodes("abc", excluding: stop), [], "a needle of stop codes alone asks nothing")
        XCTAssertEqual(PostgresSearchPlan.needleCodes("ab", excluding: []), [], "shorter than a trigram")
        XCTAssertEqual(PostgresSearchPlan.needleCodes(String(repeating: "abcdefghij", count: 9), excluding: []).count, 10)
        let long = String((0..<60).map { Character(UnicodeScalar(0x4E00 + $0)!) })
        XCTAssertEqual(PostgresSearchPlan.needleCodes(long, excluding: []).count, SearchIndexPlan.maxTrigrams, "spread over a long needle")
        XCTAssertEqual(PostgresSearchPlan.literal([3, -7]), "{3,-7}")
    }

    /// Hostile texts, needles cut out of them at random, pages of 7: lists and stats give what a scan
    /// of the rows gives before there are stop codes, after, through a server whose copy of them is
    /// stale (it asks for codes stopped since), and with events stored without codes.
    func testEveryStageAnswersAsTheScan() async throws {
        // No coding behind the test's back: the stage without codes stays without them.
        let s = try await TestServer(.postgres) { $0.searchIndexStep = 0 }
        do {
            let g = try await s.group()
            var rng = SplitMix(seed: 17)
            func post(_ round: Int) async throws {
                let events = FreeTextOracle.events(240, rng: &rng, instance: { _ in "r\(round)" }, spanSeconds: 60)
                for start in stride(from: 0, to: 240, by: 80) {
                    assertEqual(try await s.post(Array(events[start..<start + 80]), token: g.token).status, 202)
                }
            }
            // Reads the stop codes before there are any, and never again.
            let stale = ServerStore(database: s.store.database)
            try await stale.readSearchStopCodes()
            try await post(0)
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "no stop codes")
            assertEqual(try await s.store.refreshSearchStopCodes(), s.store.searchStopCodes.current.count)
            XCTAssertTrue(s.store.searchStopCodes.current.isEmpty, "240 events are too few to choose stop codes from")

            let stopped = try await s.store.refreshSearchStopCodes(sample: 1000, minimum: 10, share: 0.2)
            XCTAssertGreaterThan(stopped, 5, "the trigrams of the common pieces")
            let stop = s.store.searchStopCodes.current
            try await post(1)
            let newest = try await s.store.database.query(SQLStatement(
                "SELECT search, search_codes::text FROM events WHERE instance_id = 'r1'"))
            for row in newest {
                assertEqual(row.text(1), PostgresSearchPlan.literal(PostgresSearchPlan.codes(row.text(0) ?? "", excluding: stop)),
                            "stored without the stop codes")
            }
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "stop codes")
            XCTAssertTrue(stale.searchStopCodes.current.isEmpty)
            try await FreeTextOracle.compare(stale, rng: &rng, stage: "a stale copy of the stop codes")
            // A server just started reads them before its first query.
            let started = ServerStore(database: s.store.database)
            XCTAssertFalse(started.searchStopCodes.isLoaded)
            var first = EventFilter()
            first.text = "/tmp/x"
            _ = try await started.events(first, limit: 1, after: nil)
            assertEqual(started.searchStopCodes.current, stop)

            _ = try await s.store.database.transaction([SQLStatement("UPDATE events SET search_codes = NULL WHERE id % 3 = 0")])
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "a third without codes")
            while try await s.store.codeSearchText(limit: 70) > 0 {}
            assertEqual(try await s.store.database.first(SQLStatement("SELECT COUNT(*) FROM events WHERE search_codes IS NULL"))?.int(0), 0)
            try await FreeTextOracle.compare(s.store, rng: &rng, stage: "coded again")

            // A copy ahead of the table (a crash or a failover lost codes it holds): written back.
            stale.searchStopCodes.replace(with: [424_242])
            try await stale.refreshSearchStopCodes()
            assertEqual(try await s.store.database.first(SQLStatement("SELECT COUNT(*) FROM search_stop_codes WHERE code = 424242"))?.int(0), 1)
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// The server's own indexer gives events stored without codes theirs, behind ingest.
    func testServerCodesEventsStoredWithoutCodes() async throws {
        let s = try await TestServer(.postgres)
        do {
            let g = try await s.group()
            let batch = (0..<500).map { sampleEvent(["argv": ["/bin/sh", "-c", "uncoded-\($0)-x"], "instance_id": "u", "seq": $0]) }
            assertEqual(try await s.post(batch, token: g.token).status, 202)
            _ = try await s.store.database.transaction([SQLStatement("UPDATE events SET search_codes = NULL")])
            assertEqual(try await s.events("q=uncoded-417-").count, 1, "found without codes")
            assertEqual(try await uncodedAfterWaiting(s.store.database), 0, "the server coded every event")
            assertEqual(try await s.events("q=uncoded-417-").count, 1, "found by its codes")
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    /// A database at schema 12 with events: migration 13 drops pg_trgm's index; `q` finds the events
    /// stored without codes, and still does once the indexer has coded them.
    func testUpgradeCodesTheStoredEvents() async throws {
        let database = try PostgresDatabase(url: try PostgresCluster.newDatabase())
        do {
            let all = try Migrations.bundled(for: .postgres)
            try await Migrations.apply(to: database, migrations: all.filter { $0.version < 13 })
            try await storeUncoded(database, 0..<50, text: "stored-before-")
            assertEqual(try await Migrations.apply(to: database), [13])
            assertEqual(try await database.first(SQLStatement("SELECT to_regclass('events_search_trgm') IS NULL"))?.int(0), 1,
                        "pg_trgm's index is gone")
            let store = ServerStore(database: database)
            var filter = EventFilter()
            filter.text = "stored-before-4"
            assertEqual(try await store.events(filter, limit: 100, after: nil).events.count, 11, "found without codes")
            assertEqual(try await store.codeSearchText(limit: 1000), 50)
            assertEqual(try await store.codeSearchText(limit: 1000), 0)
            assertEqual(try await store.events(filter, limit: 100, after: nil).events.count, 11, "found by the codes")
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    /// Replicas sharing a database: the one holding the `search` lease codes the events stored without
    /// codes (and alone chooses stop codes); when it stops, another takes over.
    func testOneReplicaMaintainsTheCodes() async throws {
        let database = try PostgresDatabase(url: try PostgresCluster.newDatabase())
        var tasks: [Task<Void, any Error>] = []
        do {
            try await Migrations.apply(to: database)
            func waitUntilCoded() async throws { assertEqual(try await uncodedAfterWaiting(database), 0, "coded within 20 s") }
            let replicas = (0..<2).map { _ in (store: ServerStore(database: database), metrics: ServerMetrics()) }
            func coded(_ replica: Int) -> Int {
                let line = replicas[replica].metrics.render().split(separator: "\n").first { $0.hasPrefix("kitsune_search_indexed_total ") }
                return line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
            }
            try await storeUncoded(database, 0..<400, text: "replica-text-")
            tasks = replicas.map { replica in
                var indexer = SearchIndexer(store: replica.store, ingest: nil, metrics: replica.metrics)
                indexer.pendingListInterval = .milliseconds(50)
                indexer.leaseTTLMs = 3_000
                return Task { [indexer] in try await indexer.run() }
            }
            try await waitUntilCoded()
            assertEqual([coded(0), coded(1)].sorted(), [0, 400], "one replica coded them all")
            let holder = coded(0) > 0 ? 0 : 1
            tasks[holder].cancel()
            _ = await tasks[holder].result
            try await storeUncoded(database, 400..<700, text: "replica-text-")
            try await waitUntilCoded()
            assertEqual(coded(1 - holder), 300, "the other took over")
            assertEqual(coded(holder), 400)

            // Only a maintainer chooses: every event holds the trigrams of "replica-text-".
            let other = replicas[1 - holder].store
            assertEqual(try await other.refreshSearchStopCodes(choose: false, sample: 1000, minimum: 10, share: 0.5), 0)
            let chosen = try await other.refreshSearchStopCodes(choose: true, sample: 1000, minimum: 10, share: 0.5)
            XCTAssertGreaterThan(chosen, 10)
        } catch {
            for task in tasks { task.cancel() }
            await database.close()
            throw error
        }
        for task in tasks { task.cancel(); _ = await task.result }
        await database.close()
    }
}

/// Stores events `range` without codes, as a server before migration 13 did; event i's text is `text` then i.
private func storeUncoded(_ database: any SQLDatabase, _ range: Range<Int>, text: String) async throws {
    _ = try await database.transaction(range.map { i in
        SQLStatement("INSERT INTO events (group_id, dedup_key, time_ms, received_ms, action, search, body) VALUES ('g', ?, ?, 0, 'blocked', ?, '{}')",
                     [.text("k\(i)"), .int(1_764_000_000_000 + Int64(i)), .text("\(text)\(i)")])
    })
}

/// How many events are still without codes once none is, or after 20 s.
private func uncodedAfterWaiting(_ database: any SQLDatabase) async throws -> Int64 {
    let deadline = ContinuousClock.now + .seconds(20)
    while true {
        let left = try await database.first(SQLStatement("SELECT COUNT(*) FROM events WHERE search_codes IS NULL"))?.int(0) ?? -1
        if left == 0 || ContinuousClock.now >= deadline { return left }
        try await Task.sleep(for: .milliseconds(50))
    }
}
