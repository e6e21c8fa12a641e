import Foundation
import Synchronization

/// Free text (`q`) on PostgreSQL through migration 13: each event stores the codes of its text's
/// trigrams (`search_codes`, a GIN index) **except the stop codes** — trigrams already in at least
/// `stopShare` of the newest events. Those cost ingest the most (every event adds itself to their
/// long lists) and select the least; measured on the bench's events, 174 trigrams in 5% or more of
/// them were 92% of all trigram occurrences, and inserting 50 000 events into the GIN index took
/// 132 ms without them against 1 790 ms with every trigram.
///
/// The stop codes only grow (rows must never be deleted from `search_stop_codes`: events stored
/// without a code would be missed by queries asking for it), and a query decides inside its own
/// statement (one snapshot) whether its codes are all still live: an event it can see was stored
/// with stop codes committed before it, so the query's snapshot sees them too. A server's cached copy may lag behind the table:
/// its ingest then stores more codes than needed (harmless), and its query, finding one of its
/// codes stopped meanwhile, asks only for those still live (exact, less selective, until the
/// cache refreshes).
public enum PostgresSearchPlan {
    /// A trigram in at least this share of the newest events becomes a stop code.
    public static let stopShare = 0.05
    /// The newest events whose codes decide the stop codes.
    public static let stopSample = 20_000
    /// No stop codes are chosen from a sample smaller than this (a new store).
    public static let minStopSample = 5_000
    /// The most stop codes there may be.
    public static let maxStopCodes = 4_096

    /// The code of three consecutive Unicode scalars: FNV-1a over their 21-bit values, 32 bits. A
    /// change needs every stored code recomputed. A collision only adds candidates, which the
    /// needle's own test removes.
    @inline(__always)
    static func code(_ a: UInt32, _ b: UInt32, _ c: UInt32) -> Int32 {
        @inline(__always) func mix(_ h: UInt32, _ v: UInt32) -> UInt32 {
            let h1 = (h ^ (v & 0xFF)) &* 16_777_619
            let h2 = (h1 ^ ((v >> 8) & 0xFF)) &* 16_777_619
            return (h2 ^ ((v >> 16) & 0xFF)) &* 16_777_619
        }
        return Int32(bitPattern: mix(mix(mix(2_166_136_261, a), b), c))
    }

    /// The distinct codes of `text`'s trigrams not in `stop`, ascending.
    public static func codes(_ text: String, excluding stop: Set<Int32>) -> [Int32] {
        var out: [Int32] = []
        var a: UInt32 = 0, b: UInt32 = 0, n = 0
        for scalar in text.unicodeScalars {
            let c = scalar.value
            n += 1
            if n >= 3 {
                let code = code(a, b, c)
                if !stop.contains(code) { out.append(code) }
            }
            (a, b) = (b, c)
        }
        out.sort()
        var unique: [Int32] = []
        unique.reserveCapacity(out.count)
        for c in out where unique.last != c { unique.append(c) }
        return unique
    }

    /// The live codes a needle's events must all hold (at most `SearchIndexPlan.maxTrigrams`,
    /// spread over a long needle); empty when the needle is shorter than a trigram or all its
    /// trigrams are stop codes (such a needle is left to the planner: common if the string is, met
    /// soon newest first; a rare string of common trigrams reads every event).
    public static func needleCodes(_ needle: String, excluding stop: Set<Int32>) -> [Int32] {
        let scalars = Array(needle.unicodeScalars)
        guard scalars.count >= 3 else { return [] }
        var codes: [Int32] = [], seen = Set<Int32>()
        for start in 0...(scalars.count - 3) {
            let c = code(scalars[start].value, scalars[start + 1].value, scalars[start + 2].value)
            if !stop.contains(c), seen.insert(c).inserted { codes.append(c) }
        }
        let limit = SearchIndexPlan.maxTrigrams
        if codes.count > limit {
            let stride = Double(codes.count - 1) / Double(limit - 1)
            codes = (0..<limit).map { codes[Int((Double($0) * stride).rounded())] }
        }
        return codes
    }

    /// `codes` as a PostgreSQL array literal.
    public static func literal(_ codes: [Int32]) -> String {
        "{" + codes.map(String.init).joined(separator: ",") + "}"
    }

    /// The rows a query with live codes `codes` reads: the events holding them all (or stored without
    /// codes: before migration 13, by an older server). Should one of them have become a stop code
    /// since this server's copy was read, an event stored since lacks it, so the second branch asks
    /// for the query's codes that are still live in the statement's own snapshot instead (all of them
    /// stopped: every event, through the whole GIN index — rare, since a server reads the stop codes
    /// before its first query). The codes are written into the first branch, so that the planner weighs
    /// them with the column's statistics; the second is planned as a bitmap scan too, never as a scan
    /// of the table: a branch costed as one made PostgreSQL start parallel workers and JIT-compile
    /// the statement even where it never ran (55–65 ms a query at 1.3M events, against 2–3 ms).
    static func source(codes: [Int32]) -> String {
        let array = "'\(literal(codes))'::INT[]"
        let stopped = "EXISTS (SELECT 1 FROM search_stop_codes WHERE code = ANY(\(array)))"
        let live = "(SELECT COALESCE(array_agg(c), '{}') FROM unnest(\(array)) AS c WHERE NOT EXISTS (SELECT 1 FROM search_stop_codes WHERE code = c))"
        return """
            (SELECT * FROM events WHERE (search_codes @> \(array) OR search_codes IS NULL) AND NOT \(stopped) \
            UNION ALL SELECT * FROM events WHERE (search_codes @> \(live) OR search_codes IS NULL) AND \(stopped)) AS events
            """
    }
}

/// The stop codes this server has read from the database (see `PostgresSearchPlan`); shared by the
/// copies of a store.
public final class SearchStopCodes: Sendable {
    private let codes = Mutex((codes: Set<Int32>(), loaded: false))

    public init() {}

    /// The codes as last read.
    public var current: Set<Int32> { codes.withLock { $0.codes } }
    /// Whether they have been read at all (a server just started has not).
    public var isLoaded: Bool { codes.withLock { $0.loaded } }

    func replace(with new: Set<Int32>) { codes.withLock { $0 = (new, true) } }
}

extension ServerStore {
    /// PostgreSQL: where a query with `filter`'s needle reads (see `PostgresSearchPlan.source`).
    func postgresSearchSource(_ filter: EventFilter) async throws(StoreError) -> (sql: String, binds: [SQLValue]) {
        guard let needle = filter.text else { return ("events", []) }
        // Read before the first query: with none cached, a common needle's codes would all be found
        // stopped in the statement, and asking for none of them reads the whole GIN index.
        if !searchStopCodes.isLoaded { try await readSearchStopCodes() }
        let codes = PostgresSearchPlan.needleCodes(needle, excluding: searchStopCodes.current)
        return codes.isEmpty ? ("events", []) : (PostgresSearchPlan.source(codes: codes), [])
    }

    /// PostgreSQL: with `choose`, adds the trigrams now in at least `share` of the newest `sample`
    /// events (when that many have codes, and at least `minimum`) to the stop codes; then reads them
    /// all into this server's copy. Returns how many there are (0 on SQLite).
    @discardableResult
    public func refreshSearchStopCodes(choose: Bool = true, sample: Int = PostgresSearchPlan.stopSample,
                                       minimum: Int = PostgresSearchPlan.minStopSample,
                                       share: Double = PostgresSearchPlan.stopShare) async throws(StoreError) -> Int {
        guard dialect == .postgres else { return 0 }
        let now = Timestamps.nowMs()
        // Durable, and the codes this server holds written back first: its ingest has left them out
        // of events, so the table must have them even after a crash, a failover to a standby that
        // had not received them, or a restore (a query would otherwise ask for them).
        let writeBack = SQLStatement("INSERT INTO search_stop_codes (code, added_ms) SELECT unnest(CAST(? AS INT[])), ? ON CONFLICT (code) DO NOTHING",
                                     [.text(PostgresSearchPlan.literal(searchStopCodes.current.sorted())), .int(now)])
        _ = try await database.transaction(!choose ? [writeBack] : [
            writeBack,
            SQLStatement("""
            WITH sample AS MATERIALIZED (SELECT search_codes FROM events WHERE search_codes IS NOT NULL ORDER BY id DESC LIMIT ?), \
            size AS (SELECT COUNT(*) AS n FROM sample) \
            INSERT INTO search_stop_codes (code, added_ms) \
            SELECT c, ? FROM sample, unnest(sample.search_codes) AS c GROUP BY c \
            HAVING (SELECT n FROM size) >= ? AND COUNT(*) >= ? * (SELECT n FROM size) \
            ORDER BY COUNT(*) DESC, c LIMIT (SELECT GREATEST(0, ? - COUNT(*)) FROM search_stop_codes) \
            ON CONFLICT (code) DO NOTHING
            """, [.int(Int64(sample)), .int(now), .int(Int64(max(minimum, 1))), .real(share),
                  .int(Int64(PostgresSearchPlan.maxStopCodes))]),
        ])
        return try await readSearchStopCodes()
    }

    /// PostgreSQL: reads the stop codes into this server's copy; returns how many there are.
    @discardableResult
    func readSearchStopCodes() async throws(StoreError) -> Int {
        let rows = try await database.query(SQLStatement("SELECT code FROM search_stop_codes"))
        let codes = Set(rows.map { Int32(truncatingIfNeeded: $0.int(0)) })
        searchStopCodes.replace(with: codes)
        return codes.count
    }

    /// PostgreSQL: gives up to `limit` events stored without codes (before migration 13, or by an
    /// older server) their codes, newest first; returns how many it coded (0 on SQLite and when none is left).
    public func codeSearchText(limit: Int) async throws(StoreError) -> Int {
        guard dialect == .postgres else { return 0 }
        let rows = try await database.query(SQLStatement(
            "SELECT id, search FROM events WHERE search_codes IS NULL ORDER BY id DESC LIMIT ?", [.int(Int64(limit))]))
        guard !rows.isEmpty else { return 0 }
        let stop = searchStopCodes.current
        var binds: [SQLValue] = []
        for row in rows {
            binds.append(.int(row.int(0)))
            binds.append(.text(PostgresSearchPlan.literal(PostgresSearchPlan.codes(row.text(1) ?? "", excluding: stop))))
        }
        let values = Array(repeating: "(CAST(? AS BIGINT), CAST(? AS INT[]))", count: rows.count).joined(separator: ",")
        let updated = try await database.transaction([SQLStatement("""
            UPDATE events SET search_codes = v.codes FROM (VALUES \(values)) AS v(id, codes) \
            WHERE events.id = v.id AND events.search_codes IS NULL
            """, binds, countsChanges: true)], durable: false)
        return Int(updated.first?.first?.int(0) ?? 0)
    }
}
