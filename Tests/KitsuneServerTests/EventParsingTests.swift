import Foundation
import XCTest
@testable import KitsuneServer

/// The pieces under the ingest path, on hostile input: the JSON scanner, timestamps, query strings,
/// cursors and export cells.
final class EventParsingTests: XCTestCase {
    func testScannerKeepsEachEventsBytesVerbatim() throws {
        let body = #"[ {"action":"blocked","argv":["<script>alert(1)</script>","\u00e9\ud83d\ude00"],"n":1.5e3} ,{"action":"started"}]"#
        var scanner = JSONScanner(Array(body.utf8))
        let elements = try scanner.topLevelArray()
        XCTAssertEqual(elements.count, 2)
        XCTAssertEqual(String(decoding: Array(body.utf8)[elements[0].range], as: UTF8.self),
                       #"{"action":"blocked","argv":["<script>alert(1)</script>","\u00e9\ud83d\ude00"],"n":1.5e3}"#)
        guard case .array(let argv)? = elements[0].value["argv"] else { return XCTFail("argv") }
        XCTAssertEqual(argv[1].string, "é😀")
    }

    func testScannerRefusesWhatIsNotStrictJSON() {
        let cases: [(String, String)] = [
            (#"{"a":1}"#, "must be a JSON array"), (#"[{"a":1,"a":2}]"#, "duplicate field"), ("[1,]", "invalid value"),
            (#"["\ud800"]"#, "lone surrogate"), ("[\"a\u{1}\"]", "control character"), (#"["\x"]"#, "invalid escape"),
            ("[01]", "expected , or ]"), ("[1] x", "unexpected content"), (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "nested deeper"),
            ("[\"abc", "unterminated"), ("[nul]", "invalid literal"), ("", "must be a JSON array"),
        ]
        for (text, expected) in cases {
            var scanner = JSONScanner(Array(text.utf8))
            XCTAssertThrowsError(try scanner.topLevelArray(), text) { XCTAssertTrue("\($0)".contains(expected), "\(text): \($0)") }
        }
        // Invalid UTF-8 in every form the decoder would otherwise repair, on the fast path (no escape)
        // and after an escape: a bad continuation, an overlong "/", a UTF-16 surrogate written as UTF-8,
        // a truncated sequence, a byte that never starts one, a code point past U+10FFFF.
        for bad: [UInt8] in [[0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xFF], [0xF4, 0x90, 0x80, 0x80]] {
            for prefix: [UInt8] in [[], Array(#"\n"#.utf8)] {
                var scanner = JSONScanner([91, 34] + prefix + bad + [34, 93])
                XCTAssertThrowsError(try scanner.topLevelArray(), "\(prefix + bad)") { XCTAssertTrue("\($0)".contains("UTF-8"), "\($0)") }
            }
        }
        // Valid text, including the replacement character itself, is kept as it is.
        var valid = JSONScanner(Array("[\"\u{FFFD}é😀\"]".utf8))
        XCTAssertEqual(try valid.topLevelArray().first?.value.string, "\u{FFFD}é😀")
    }

    func testDuplicateKeysAreRefusedInSmallAndLargeObjects() throws {
        for count in [2, 23, 24, 25, 200] {
            let members = (0..<count).map { "\"k\($0)\":\($0)" }
            var unique = JSONScanner(Array("[{\(members.joined(separator: ","))}]".utf8))
            XCTAssertEqual(try unique.topLevelArray().count, 1, "\(count) distinct keys")
            for duplicate in [0, count - 1] {
                var scanner = JSONScanner(Array("[{\(members.joined(separator: ",")),\"k\(duplicate)\":0}]".utf8))
                XCTAssertThrowsError(try scanner.topLevelArray(), "\(count) keys, k\(duplicate) twice") {
                    XCTAssertTrue("\($0)".contains("duplicate field \"k\(duplicate)\""), "\($0)")
                }
            }
        }
    }

    func testEventFieldsAreCheckedOneByOne() throws {
        let parser = EventBatchParser()
        let body = """
        [{"action":"blocked","time":"2026-12-01T10:00:00.123Z","instance_id":"ab12","seq":3,"function_name":"api","argv":["CURL","x"]},
         {"action":"blocked","time":"yesterday"},
         {"action":"blocked","account_id":"12345"},
         {"time":"2026-12-01T10:00:00Z"},
         {"action":"reported","seq":-1},
         {"action":"reported","argv":"env"},
         "not an object",
         {"action":"reported","function_name":"x\\u0000y"}]
        """
        let (events, problems) = try parser.parse(Array(body.utf8), groupID: "g", receivedMs: 5)
        XCTAssertEqual(events.map(\.index), [0, 7])
        XCTAssertEqual(events[0].event.dedupKey, "i:ab12:3")
        XCTAssertEqual(events[0].event.timeMs, Timestamps.parse("2026-12-01T10:00:00.123Z"))
        XCTAssertTrue(events[0].event.search.contains("curl\nx"), events[0].event.search)
        XCTAssertEqual(events[1].event.functionName, "x\u{FFFD}y", "NUL never reaches a text column")
        XCTAssertTrue(events[1].event.dedupKey.hasPrefix("h:"))
        XCTAssertEqual(problems.map(\.index), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(problems.map(\.field), ["time", "account_id", "action", "seq", "argv", "event"])
        XCTAssertThrowsError(try EventBatchParser(limits: { var l = IngestLimits(); l.maxEvents = 1; return l }())
            .parse(Array("[{},{}]".utf8), groupID: "g", receivedMs: 0)) { XCTAssertTrue("\($0)".contains("at most 1"), "\($0)") }
    }

    func testTimestamps() {
        XCTAssertEqual(Timestamps.parse("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(Timestamps.parse("2026-11-21T20:35:54.396Z"), 1_795_293_354_396)
        XCTAssertEqual(Timestamps.parse("2026-11-21T21:35:54.396+01:00"), 1_795_293_354_396)
        XCTAssertEqual(Timestamps.format(1_795_293_354_396), "2026-11-21T20:35:54.396Z")
        for bad in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-21T20:35:54", "2026-11-21T25:00:00Z", "x", "2026-11-21T20:35:54.Z"] {
            XCTAssertNil(Timestamps.parse(bad), bad)
        }
    }

    func testQueryParametersAreDecodedStrictly() throws {
        let q = try QueryParameters("function=a%20b&function=c+d&q=%3Cscript%3E&empty=")
        XCTAssertEqual(q.values("function"), ["a b", "c d"])
        XCTAssertEqual(try q.single("q"), "<script>")
        XCTAssertThrowsError(try q.single("function"))
        for bad in ["q=%", "q=%zz", "q=%00", "q=%C3%28", "q=" + String(repeating: "a", count: 600)] {
            XCTAssertThrowsError(try QueryParameters(bad), bad) { XCTAssertTrue(($0 as? ParameterError)?.parameter == "q", "\(bad): \($0)") }
        }
        XCTAssertThrowsError(try QueryParameters("nope=1").only(EventFilter.parameters)) { XCTAssertEqual(($0 as? ParameterError)?.parameter, "nope") }
        let filter = try EventFilter(try QueryParameters("since=1h&reason=drift&reason=honeypot&q=CURL"), nowMs: 10_000_000)
        XCTAssertEqual(filter.sinceMs, 10_000_000 - 3_600_000)
        let sql = filter.condition(.postgres)
        XCTAssertEqual(sql.sql, "WHERE reason IN (?,?) AND time_ms >= ? AND search LIKE ? ESCAPE '\\'")
        XCTAssertEqual(sql.binds, [.text("drift"), .text("honeypot"), .int(6_400_000), .text("%curl%")])
        let wild = try EventFilter(try QueryParameters("q=50%25_off%5C"), nowMs: 0)
        XCTAssertEqual(wild.condition(.postgres).binds, [.text("%50\\%\\_off\\\\%")], "the needle's wildcards and escape are literal")
        XCTAssertEqual(wild.condition(.sqlite).sql, "WHERE instr(search, ?) > 0")
        XCTAssertThrowsError(try EventFilter(try QueryParameters("since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z"), nowMs: 0))
    }

    func testDialectPlaceholders() {
        XCTAssertEqual(SQLDialect.postgres.render("SELECT ? WHERE a = '?' AND b = ?"), "SELECT $1 WHERE a = '?' AND b = $2")
        XCTAssertEqual(SQLDialect.sqlite.render("SELECT ?"), "SELECT ?")
    }

    func testCursorsCannotBeForged() throws {
        let c = EventCursor(timeMs: 123, id: 45)
        XCTAssertEqual(try EventCursor(token: c.token), c)
        for bad in ["", "!!!", "MTIz", Data("1:2:3".utf8).base64EncodedString(), Data("1' OR 1=1--:2".utf8).base64EncodedString(), String(repeating: "A", count: 100)] {
            XCTAssertThrowsError(try EventCursor(token: bad), bad)
        }
    }

    func testCSVCellsCannotCarryFormulas() {
        XCTAssertEqual(EventExportFormat.csvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"")
        XCTAssertEqual(EventExportFormat.csvCell("+1"), "'+1")
        XCTAssertEqual(EventExportFormat.csvCell("-c"), "'-c")
        XCTAssertEqual(EventExportFormat.csvCell("@SUM(A1)"), "'@SUM(A1)")
        XCTAssertEqual(EventExportFormat.csvCell("a,b"), "\"a,b\"")
        XCTAssertEqual(EventExportFormat.csvCell("plain"), "plain")
    }

    func testTokens() throws {
        let t = TokenSecret.generate()
        XCTAssertEqual(TokenSecret(parsing: Substring(t.text)), t)
        XCTAssertTrue(t.matches(storedHash: t.hash))
        XCTAssertFalse(t.matches(storedHash: TokenSecret.generate().hash))
        XCTAssertEqual(t.secret.count, 64, "256 bits")
        for bad in ["", "kit_", "kit_\(t.id)", "kit_\(t.id)_\(t.secret)x", "KIT_\(t.id)_\(t.secret)", "kit_\(t.id.uppercased())_\(t.secret)"] {
            XCTAssertNil(TokenSecret(parsing: Substring(bad)), bad)
        }
    }
}
