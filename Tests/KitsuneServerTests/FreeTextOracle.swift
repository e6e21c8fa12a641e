import Foundation
import XCTest
@testable import KitsuneServer

/// The free-text oracle both backends' index tests share: hostile texts to store, and a check that
/// lists and stats for needles cut out of the stored text equal a scan of the rows.
enum FreeTextOracle {
    /// Pieces of hostile event text: query syntax of FTS5 and SQL, quotes, LIKE's wildcards, arrays,
    /// Unicode (combining marks, astral scalars).
    static let pieces = [#"say "hi" now"#, #""""#, "AND", "OR NOT", "NEAR(a b, 3)", "col:umn", "^start", "{a b}:x", "pre*", "🦊 kitsune",
                         "é\u{301}t\u{e9}", "日本語のテキスト", "%_\\", "it's", "curl -o /tmp/m http://203.0.113.9/m", "a\tb", "x-y_z", "AaA",
                         "'; DROP TABLE events; --", "{1,2}"]

    /// `count` events of one to three random pieces each, times spread over `spanSeconds`.
    static func events(_ count: Int, rng: inout SplitMix, instance: (Int) -> String, spanSeconds: Int) -> [[String: Any]] {
        (0..<count).map { i in
            sampleEvent(["argv": (0..<rng.next(in: 1..<4)).map { _ in pieces[rng.next(in: 0..<pieces.count)] + "\(rng.next(in: 0..<40))" },
                         "executable": "/tmp/x\(i % 13)", "instance_id": instance(i), "seq": i,
                         "time": Timestamps.format(1_764_000_000_000 + Int64(rng.next(in: 0..<spanSeconds)) * 1000),
                         "function_name": ["api", "worker"][i % 2]])
        }
    }

    /// For fixed and random needles (a third of them with a function too): every page of 7 and the
    /// stats' total equal the scan, newest first.
    static func compare(_ store: ServerStore, rng: inout SplitMix, stage: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let texts = try await store.database.query(SQLStatement("SELECT search FROM events")).compactMap { $0.text(0) }
        // "/tmp/x" is in every event: on PostgreSQL, every trigram of it becomes a stop code.
        var needles = ["zzz-absent", "/tmp/x", #""""#, "and", "near(", "🦊 k", "e\u{301}t", "のテ", "%_\\", "it'", "/tmp/m h", "\"hi\"", "'; drop", "_z", "{1,"]
        for _ in 0..<40 {
            let scalars = Array(texts[rng.next(in: 0..<texts.count)].unicodeScalars)
            let start = rng.next(in: 0..<scalars.count), length = rng.next(in: 1..<min(24, scalars.count - start + 1))
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[start..<start + length])
            needles.append(String(view))
        }
        let test = store.dialect == .postgres ? "strpos(search, ?) > 0" : "instr(search, ?) > 0"
        for needle in needles {
            var filter = EventFilter()
            filter.text = needle
            if rng.next(in: 0..<3) == 0 { filter.exact["function"] = ["api"] }
            let functions = filter.exact["function"] ?? []
            let expected = try await store.database.query(SQLStatement(
                "SELECT id, function_name FROM events WHERE \(test) ORDER BY time_ms DESC, id DESC", [.text(needle)]))
                .filter { functions.isEmpty || functions.contains($0.text(1) ?? "") }.map { $0.int(0) }
            var got: [Int64] = [], cursor: EventCursor?
            repeat {
                let page = try await store.events(filter, limit: 7, after: cursor)
                got += page.events.map(\.id)
                cursor = page.next
            } while cursor != nil
            XCTAssertEqual(got, expected, "[\(stage)] list of q=\(needle.debugDescription) \(filter.exact)", file: file, line: line)
            let stats = try await store.stats(filter, by: .function)
            XCTAssertEqual(stats.total, Int64(expected.count), "[\(stage)] stats of q=\(needle.debugDescription)", file: file, line: line)
        }
    }
}
