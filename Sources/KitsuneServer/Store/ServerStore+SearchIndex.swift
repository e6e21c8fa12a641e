import Foundation

/// Free text (`q`) on SQLite through the trigram index of migration 10: which events to read, given
/// the index's watermark. PostgreSQL's codes are stored with each event (`PostgresSearchPlan`).
public struct SearchIndexPlan: Sendable, Equatable {
    /// Candidates above this many make the index the slower way: a needle that common is met soon
    /// by scanning newest first, and reading that many rows by id costs more than the scan.
    public static let maxCandidates = 50_000
    /// The fewest candidates a list reads from the index before it would rather scan.
    static let minListCandidates = 1_000

    /// How many candidates the index may give a query before a scan is the cheaper way; counting
    /// them is itself a walk of the needle's doclists, so the bound is kept as low as the choice
    /// allows. Stats count every match: up to `maxCandidates`. A list wants only `listing` rows,
    /// newest first: a needle in `count` of `stored` events is met about once every `stored / count`
    /// rows, so the scan reads about `listing × stored / count` rows against `count` lookups for the
    /// candidates, and the candidates win while `count < √(listing × stored)` (10 000 for a page of
    /// 100 among 1M events).
    public static func candidateLimit(listing: Int?, stored: Int) -> Int {
        guard let listing else { return maxCandidates }
        let balance = Int((Double(max(listing, 1)) * Double(max(stored, 0))).squareRoot())
        return min(maxCandidates, max(minListCandidates, balance))
    }
    /// At most this many trigrams of a long needle are asked of the index (spread over it); every
    /// candidate is checked against the whole needle anyway.
    static let maxTrigrams = 24
    /// Pages of segment merging each indexer step does (FTS5's `merge` command): with 200 events a
    /// step this keeps the segments few at about twice the work of the inserts alone, and no step
    /// long (measured: p99 14 ms, max 19 ms a step against 50 ms and 180 ms with FTS5's own merging).
    static let mergePagesPerStep = 16

    /// The FTS5 query for `needle`: each of its trigrams (three Unicode scalars, the index's tokens)
    /// as a quoted string, all required. Nil when the needle is shorter than a trigram.
    public static func match(_ needle: String) -> String? {
        let scalars = Array(needle.unicodeScalars)
        guard scalars.count >= 3 else { return nil }
        var windows: [String] = [], seen = Set<String>()
        for start in 0...(scalars.count - 3) {
            var w = String.UnicodeScalarView()
            w.append(contentsOf: scalars[start..<start + 3])
            let text = String(w)
            if seen.insert(text).inserted { windows.append(text) }
        }
        if windows.count > maxTrigrams {
            let stride = Double(windows.count - 1) / Double(maxTrigrams - 1)
            windows = (0..<maxTrigrams).map { windows[Int((Double($0) * stride).rounded())] }
        }
        // FTS5 strings are double-quoted, a double quote inside written twice: the needle is never
        // read as query syntax.
        return windows.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
    }

    /// The rows a filtered query reads: the events table itself, or the index's candidates joined
    /// to it (`CROSS JOIN` keeps SQLite from walking another index and testing each row against the
    /// candidates).
    public static func candidatesSource(match: String) -> (sql: String, binds: [SQLValue]) {
        ("""
         (SELECT rowid AS candidate FROM events_fts WHERE events_fts MATCH ? \
         UNION ALL SELECT id FROM events WHERE id > (SELECT through FROM search_index WHERE name = 'events')) AS candidates \
         CROSS JOIN events ON events.id = candidates.candidate
         """, [.text(match)])
    }
}

extension ServerStore {
    /// Where a query with `filter` reads its rows: `events`, or the trigram index's candidates on
    /// SQLite when the needle is rare enough for them to be fewer than a scan (the filter's own
    /// condition still checks every row against the needle). `listing`: the rows a list wants (nil
    /// for stats, which count every match); see `SearchIndexPlan.candidateLimit`.
    func eventSource(_ filter: EventFilter, listing: Int? = nil) async throws(StoreError) -> (sql: String, binds: [SQLValue]) {
        if dialect == .postgres { return try await postgresSearchSource(filter) }
        guard let needle = filter.text, let match = SearchIndexPlan.match(needle) else { return ("events", []) }
        var limit = SearchIndexPlan.maxCandidates
        if listing != nil {
            // The span of ids: an upper bound of the rows stored, read from the ends of the table.
            let span = try await database.first(SQLStatement(
                "SELECT COALESCE((SELECT MAX(id) FROM events) - (SELECT MIN(id) FROM events) + 1, 0)"))?.int(0) ?? 0
            limit = SearchIndexPlan.candidateLimit(listing: listing, stored: Int(span))
        }
        let count = try await database.first(SQLStatement(
            "SELECT COUNT(*) FROM (SELECT 1 FROM events_fts WHERE events_fts MATCH ? LIMIT ?)",
            [.text(match), .int(Int64(limit + 1))]))?.int(0) ?? 0
        guard count <= limit else { return ("events", []) }
        return SearchIndexPlan.candidatesSource(match: match)
    }

    /// Merges the pending list of PostgreSQL's index of trigram codes (new events not in the index
    /// proper yet) into the index, beside ingest (migrations 12 and 13); returns the pending pages
    /// merged (0 on SQLite).
    public func mergeSearchPendingList() async throws(StoreError) -> Int {
        guard dialect == .postgres else { return 0 }
        let row = try await database.first(SQLStatement(
            "SELECT gin_clean_pending_list(c.oid) FROM pg_class c WHERE c.oid = to_regclass('events_search_codes') AND c.relkind = 'i'"))
        return Int(row?.int(0) ?? 0)
    }

    /// Adds up to `limit` events after the watermark to SQLite's trigram index and moves the
    /// watermark past them, in one transaction; returns how many were added (0 on PostgreSQL, and
    /// when the index is up to date).
    public func indexSearchText(limit: Int) async throws(StoreError) -> Int {
        guard dialect == .sqlite else { return 0 }
        guard let mark = try await database.first(SQLStatement("SELECT through FROM search_index WHERE name = 'events'"))?.int(0),
              let next = try await database.first(SQLStatement(
                "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?)", [.int(mark), .int(Int64(limit))])),
              next.int(1) > 0 else { return 0 }
        let high = next.int(0)
        // Both statements check that the watermark is still where it was read: another indexer (or
        // a reused id) that moved it meanwhile makes this step add nothing. Not durable: a step lost
        // in a crash is lost with its watermark, and done again.
        let results = try await database.transaction([
            SQLStatement("""
                INSERT INTO events_fts (rowid, search) SELECT id, search FROM events
                WHERE id > ? AND id <= ? AND (SELECT through FROM search_index WHERE name = 'events') = ?
                """, [.int(mark), .int(high), .int(mark)]),
            // Migration 10 turned automatic merging off: a bounded merge in every step keeps the
            // number of segments (and the cost of a query) down without a long step now and then.
            SQLStatement("INSERT INTO events_fts (events_fts, rank) VALUES ('merge', \(SearchIndexPlan.mergePagesPerStep))"),
            SQLStatement("UPDATE search_index SET through = ? WHERE name = 'events' AND through = ? RETURNING through",
                         [.int(high), .int(mark)]),
        ], durable: false)
        return results.last?.isEmpty == false ? Int(next.int(1)) : 0
    }

    /// Events stored but not yet in SQLite's trigram index (0 on PostgreSQL).
    public func searchIndexLag() async throws(StoreError) -> Int64 {
        guard dialect == .sqlite else { return 0 }
        return try await database.first(SQLStatement(
            "SELECT COUNT(*) FROM events WHERE id > (SELECT through FROM search_index WHERE name = 'events')"))?.int(0) ?? 0
    }
}
