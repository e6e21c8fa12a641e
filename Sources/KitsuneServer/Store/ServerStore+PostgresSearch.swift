import Foundation

/// Free text (`q`) on PostgreSQL through the trigram chunks of migration 13, which the search indexer
/// fills behind ingest from a queue of new ids. The ids of the chunks holding all of a needle's
/// trigram codes, plus the queue, are a query's candidates; the filter's own condition still checks
/// every candidate against the needle.
///
/// A GIN index answers only as a whole bitmap, so it cannot be asked cheaply how many candidates a
/// needle has (counting the matches of a common one took 25–480 ms at 1M events, measured with
/// pg_trgm). Which way a query reads is chosen from the newest events instead:
/// - a list first reads the newest `candidateLimit` events of its other filters (newest first, as a
///   scan would) and keeps the matches: a full page there is the answer; else the needle is rarer than
///   a page in that many events, and the candidates are the cheaper way;
/// - stats count the needle among the newest `densityProbe` events of their other filters, and read
///   the candidates when that share of all events is at most `maxCandidates`.
public enum PostgresSearchPlan {
    /// Events whose share of matches decides the way stats read.
    static let densityProbe = 10_000
    /// Events a chunk holds at most: fewer entries in the index the more, more candidates to check
    /// for a rare needle the more (up to this many for each event that holds it).
    public static let chunkSize = 10

    /// The distinct trigram codes of `text`: every three consecutive Unicode scalars, mixed into 32
    /// bits (FNV-1a over the scalar values). Stored in the chunks: a change needs a reindex. A
    /// collision only adds candidates, which the needle's own test removes.
    public static func trigramCodes(_ text: String, into codes: inout Set<Int32>) {
        var a: UInt32 = 0, b: UInt32 = 0, n = 0
        for scalar in text.unicodeScalars {
            let c = scalar.value
            n += 1
            if n >= 3 { codes.insert(code(a, b, c)) }
            (a, b) = (b, c)
        }
    }

    static func code(_ a: UInt32, _ b: UInt32, _ c: UInt32) -> Int32 {
        var h: UInt32 = 2_166_136_261
        for v in [a, b, c] {
            for shift in stride(from: 0, to: 24, by: 8) {
                h = (h ^ ((v >> UInt32(shift)) & 0xFF)) &* 16_777_619
            }
        }
        return Int32(bitPattern: h)
    }

    /// The codes a needle's candidates must all hold, as a PostgreSQL array literal (at most
    /// `SearchIndexPlan.maxTrigrams` of them, spread over a long needle). Nil when the needle is
    /// shorter than a trigram.
    static func needleCodes(_ needle: String) -> String? {
        let scalars = Array(needle.unicodeScalars)
        guard scalars.count >= 3 else { return nil }
        var codes: [Int32] = [], seen = Set<Int32>()
        for start in 0...(scalars.count - 3) {
            let c = code(scalars[start].value, scalars[start + 1].value, scalars[start + 2].value)
            if seen.insert(c).inserted { codes.append(c) }
        }
        let limit = SearchIndexPlan.maxTrigrams
        if codes.count > limit {
            let stride = Double(codes.count - 1) / Double(limit - 1)
            codes = (0..<limit).map { codes[Int((Double($0) * stride).rounded())] }
        }
        return "{" + codes.map(String.init).joined(separator: ",") + "}"
    }

    /// The candidates of a needle (`codes`: its array literal): the ids of the chunks that hold all
    /// its codes, and the queued ids.
    static func candidatesSource(codes: SQLValue) -> (sql: String, binds: [SQLValue]) {
        ("""
         (SELECT unnest(ids) AS candidate FROM search_chunks WHERE codes @> CAST(? AS INT[])          UNION ALL SELECT id FROM search_queue) AS candidates JOIN events ON events.id = candidates.candidate
         """, [codes])
    }
}

extension ServerStore {
    /// PostgreSQL: the filter's needle as a `LIKE` pattern and as its trigram codes, and the span of
    /// event ids (an upper bound of the events stored); nil without a needle and for one shorter than
    /// a trigram (those scan).
    func postgresSearch(_ filter: EventFilter) async throws(StoreError) -> (pattern: SQLValue, codes: SQLValue, span: Int)? {
        guard dialect == .postgres, let needle = filter.text, let codes = PostgresSearchPlan.needleCodes(needle) else { return nil }
        let span = try await database.first(SQLStatement(
            "SELECT COALESCE((SELECT MAX(id) FROM events) - (SELECT MIN(id) FROM events) + 1, 0)"))?.int(0) ?? 0
        return (dialect.contains(column: "search", needle: needle).bind, .text(codes), Int(span))
    }

    /// PostgreSQL stats: the candidates, unless the needle is so common among the newest events of
    /// the other filters that it would give more than `maxCandidates`, or those filters leave fewer
    /// events than the probe (then their own indexes are the way). `probe`: the events read for that.
    func postgresStatsSource(_ filter: EventFilter, probe: Int = PostgresSearchPlan.densityProbe) async throws(StoreError) -> (sql: String, binds: [SQLValue]) {
        guard let search = try await postgresSearch(filter) else { return ("events", []) }
        var others = filter
        others.text = nil
        let (condition, binds) = others.condition(dialect)
        let row = try await database.first(SQLStatement("""
            SELECT COUNT(*) FILTER (WHERE search LIKE ? ESCAPE '\\'), COUNT(*) FROM \
            (SELECT search FROM events \(condition) ORDER BY time_ms DESC, id DESC LIMIT ?) AS newest
            """, [search.pattern] + binds + [.int(Int64(probe))]))
        let (hits, read) = (Int(row?.int(0) ?? 0), Int(row?.int(1) ?? 0))
        guard read >= probe, hits * search.span / probe <= SearchIndexPlan.maxCandidates else { return ("events", []) }
        return PostgresSearchPlan.candidatesSource(codes: search.codes)
    }

    /// PostgreSQL: a page of `limit` rows of a filter with a needle, newest first after `cursor` —
    /// from the newest events of the other filters when the needle is common there, else from the
    /// candidates. Nil when the index cannot serve the filter (the caller scans). `probe`: how many of
    /// the newest events to try first (by default `SearchIndexPlan.candidateLimit`).
    func postgresTextPage(_ filter: EventFilter, limit: Int, after cursor: EventCursor?, probe: Int? = nil) async throws(StoreError) -> [SQLRow]? {
        guard let search = try await postgresSearch(filter) else { return nil }
        var others = filter
        others.text = nil
        let walk = others.listWalk(dialect)
        var (condition, binds) = others.condition(dialect, walking: walk)
        if let cursor {
            condition += (condition.isEmpty ? "WHERE " : " AND ") + EventCursor.condition
            binds += cursor.binds
        }
        let order = (walk.map { "\($0) DESC, " } ?? "") + "time_ms DESC, id DESC"
        let probe = probe ?? SearchIndexPlan.candidateLimit(listing: limit, stored: search.span)
        // The newest `probe` rows, numbered; the matches among them and the last row (when there are
        // that many): without it, the probe read every event the other filters leave.
        let rows = try await database.query(SQLStatement("""
            SELECT id, time_ms, body, hit, n FROM (SELECT id, time_ms, body, search LIKE ? ESCAPE '\\' AS hit, \
            row_number() OVER (ORDER BY \(order)) AS n FROM (SELECT * FROM events \(condition) ORDER BY \(order) LIMIT ?) AS newest) AS probe \
            WHERE hit OR n = ? ORDER BY n LIMIT ?
            """, [search.pattern] + binds + [.int(Int64(probe)), .int(Int64(probe)), .int(Int64(limit + 1))]))
        let hits = rows.filter { $0.int(3) == 1 }
        let cut = rows.contains { $0.int(4) == Int64(probe) }
        if hits.count >= limit || !cut { return Array(hits.prefix(limit)) }
        return try await database.query(listStatement(filter, limit: limit, after: cursor,
                                                      from: PostgresSearchPlan.candidatesSource(codes: search.codes)))
    }

    /// Moves up to `limit` queued events into PostgreSQL's trigram chunks: reads them with their text,
    /// then in one transaction (not waiting for its flush: a step lost in a crash leaves its events
    /// queued) takes each chunk's ids off the queue and writes the chunk with the ids it took — an id
    /// another indexer or retention took meanwhile is left out (the codes of its text are kept; they
    /// only add candidates). Returns how many events were read (0 when the queue is empty).
    func indexPostgresSearchText(limit: Int) async throws(StoreError) -> Int {
        // The oldest queued ids, then each one's text by its key: as a join, PostgreSQL merged the
        // queue with the events' key index from its first id on, reading every event indexed before
        // (114 ms a step at 500 000 events, `pg_stat_statements`).
        let rows = try await database.query(SQLStatement("""
            SELECT q.id, (SELECT search FROM events WHERE events.id = q.id) FROM             (SELECT id FROM search_queue ORDER BY id LIMIT ?) AS q
            """, [.int(Int64(limit))]))
        guard !rows.isEmpty else { return 0 }
        var statements: [SQLStatement] = []
        for start in stride(from: 0, to: rows.count, by: PostgresSearchPlan.chunkSize) {
            let chunk = rows[start..<min(start + PostgresSearchPlan.chunkSize, rows.count)]
            var codes = Set<Int32>()
            for row in chunk { PostgresSearchPlan.trigramCodes(row.text(1) ?? "", into: &codes) }
            statements.append(SQLStatement("""
                WITH taken AS (DELETE FROM search_queue WHERE id = ANY(CAST(? AS BIGINT[])) RETURNING id)                 INSERT INTO search_chunks (high, ids, codes) SELECT MAX(id), array_agg(id ORDER BY id), CAST(? AS INT[])                 FROM taken HAVING COUNT(*) > 0
                """, [.text("{" + chunk.map { String($0.int(0)) }.joined(separator: ",") + "}"),
                      .text("{" + codes.sorted().map(String.init).joined(separator: ",") + "}")]))
        }
        _ = try await database.transaction(statements, durable: false)
        return rows.count
    }
}
