import Foundation
@testable import KitsuneServer

/// What the free-text oracle tests of both stores share: filters with needles cut at random out of the
/// stored text (and the fixed ones given), and the scan that says what each should find.
enum SearchOracle {
    /// A filter for each of `fixed` and for `count` needles cut out of the stored text (1 to 23
    /// Unicode scalars, any boundary); about one in three also asks for the function `api`.
    static func filters(_ store: ServerStore, fixed: [String], count: Int, rng: inout SplitMix) async throws -> [EventFilter] {
        let texts = try await store.database.query(SQLStatement("SELECT search FROM events")).compactMap { $0.text(0) }
        var needles = fixed
        for _ in 0..<count {
            let scalars = Array(texts[rng.next(in: 0..<texts.count)].unicodeScalars)
            let start = rng.next(in: 0..<scalars.count), length = rng.next(in: 1..<min(24, scalars.count - start + 1))
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[start..<start + length])
            needles.append(String(view))
        }
        return needles.map { needle in
            var filter = EventFilter()
            filter.text = needle
            if rng.next(in: 0..<3) == 0 { filter.exact["function"] = ["api"] }
            return filter
        }
    }

    /// The ids whose text holds the needle (a plain substring test over every row: `instr` on SQLite,
    /// `strpos` on PostgreSQL), newest first, of the filter's function if it has one.
    static func scan(_ store: ServerStore, _ filter: EventFilter) async throws -> [Int64] {
        let functions = filter.exact["function"] ?? []
        let test = store.dialect == .sqlite ? "instr(search, ?)" : "strpos(search, ?)"
        let rows = try await store.database.query(SQLStatement(
            "SELECT id, function_name FROM events WHERE \(test) > 0 ORDER BY time_ms DESC, id DESC", [.text(filter.text!)]))
        return rows.filter { functions.isEmpty || functions.contains($0.text(1) ?? "") }.map { $0.int(0) }
    }
}
