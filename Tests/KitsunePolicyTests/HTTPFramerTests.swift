import KitsunePolicyCore
import XCTest

/// The relay's HTTP framing: heads found wherever reads split them, bodies passed through by
/// length, chunked or until close, and every input byte forwarded exactly once.
final class HTTPFramerTests: XCTestCase {
    /// Feed `input` in pieces of `step` bytes; return the heads' start lines and the forwarded bytes.
    func run(_ direction: HTTPFramer.Direction, _ input: String, step: Int) -> (heads: [HTTPHead], forwarded: String) {
        var framer = HTTPFramer(direction: direction)
        let bytes = Array(input.utf8)
        var heads: [HTTPHead] = []
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = Array(bytes[i..<min(i + step, bytes.count)])
            for piece in framer.feed(chunk) {
                switch piece {
                case .head(let h): heads.append(h); out += h.raw
                case .bytes(let r): out += chunk[r]
                }
            }
            i += step
        }
        return (heads, String(decoding: out, as: UTF8.self))
    }

    let keepAlive = """
    GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n\
    POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world\
    POST /2018-06-01/runtime/invocation/def/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
    5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n\
    GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n
    """

    func testRequestsOnOneConnectionAreFramedWhateverTheReadSizes() {
        for step in [1, 2, 3, 7, 16, 64, 4096] {
            let (heads, forwarded) = run(.requests, keepAlive, step: step)
            XCTAssertEqual(forwarded, keepAlive, "step \(step)")
            let lines = heads.compactMap { $0.requestLine }.map { String(decoding: $0.method + [32] + $0.target, as: UTF8.self) }
            XCTAssertEqual(lines, [
                "GET /2018-06-01/runtime/invocation/next",
                "POST /2018-06-01/runtime/invocation/abc/response",
                "POST /2018-06-01/runtime/invocation/def/response",
                "GET /2018-06-01/runtime/invocation/next",
            ], "step \(step)")
        }
    }

    func testABodyThatLooksLikeAHeadIsNotTakenForOne() {
        let body = "x\r\n\r\nGET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n"
        let input = "POST /2018-06-01/runtime/invocation/a/response HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let (heads, forwarded) = run(.requests, input, step: 5)
        XCTAssertEqual(heads.count, 1)
        XCTAssertEqual(forwarded, input)
    }

    func testResponsesCarryTheRequestIdAndContinueAfter100Continue() {
        let input = """
        HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n\
        lambda-runtime-deadline-ms: 1542409706888\r\nContent-Length: 2\r\n\r\n{}\
        HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{"status":"OK"}\n
        """
        let (heads, forwarded) = run(.responses, input, step: 9)
        XCTAssertEqual(forwarded, input)
        XCTAssertEqual(heads.map { $0.status }, [100, 200, 202])
        XCTAssertEqual(heads[1].field("lambda-runtime-aws-request-id").map { String(decoding: $0, as: UTF8.self) },
                       "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
        XCTAssertEqual(heads[1].field("Lambda-Runtime-Deadline-Ms").map { String(decoding: $0, as: UTF8.self) }, "1542409706888")
    }

    func testAResponseWithoutLengthRunsUntilCloseAndLaterBytesAreNotParsed() {
        let input = "HTTP/1.1 200 OK\r\n\r\nbody...HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: spoofed\r\n\r\n"
        var framer = HTTPFramer(direction: .responses)
        let pieces = framer.feed(Array(input.utf8))
        XCTAssertEqual(pieces.filter { if case .head = $0 { return true } else { return false } }.count, 1)
        XCTAssertTrue(framer.isOpaque)
    }

    func testMalformedOrHugeHeadsArePassedThroughOpaque() {
        for input in ["NOT HTTP AT ALL\r\nno colon here\r\n\r\nrest", "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\nrest"] {
            let (_, forwarded) = run(.requests, input, step: 4)
            XCTAssertEqual(forwarded, input)
        }
        let huge = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: HTTPFramer.headLimit + 10) + "\r\n\r\n"
        var framer = HTTPFramer(direction: .requests)
        var forwarded = 0
        for piece in framer.feed(Array(huge.utf8)) {
            switch piece {
            case .head(let h): forwarded += h.raw.count
            case .bytes(let r): forwarded += r.count
            }
        }
        XCTAssertEqual(forwarded, huge.utf8.count)
        XCTAssertTrue(framer.isOpaque)
    }
}

extension HTTPFramerTests {
    /// The relay's fast path sends a read as it came whenever no head is held back before or after
    /// it: then the pieces of that feed must be exactly the read, in order, and their lengths add up.
    func testWithNoHeadHeldBackThePiecesAreTheReadItself() {
        let bytes = Array(keepAlive.utf8)
        for step in [1, 5, 13, 40, 4096] {
            var framer = HTTPFramer(direction: .requests)
            var fastReads = 0
            var i = 0
            while i < bytes.count {
                let chunk = Array(bytes[i..<min(i + step, bytes.count)])
                let carried = framer.holdsPartialHead
                let pieces = framer.feed(chunk)
                if !carried && !framer.holdsPartialHead {
                    fastReads += 1
                    var rebuilt: [UInt8] = []
                    for p in pieces {
                        switch p {
                        case .head(let h): rebuilt += h.raw
                        case .bytes(let r): rebuilt += chunk[r]
                        }
                    }
                    XCTAssertEqual(rebuilt, chunk, "step \(step) at \(i)")
                    XCTAssertEqual(pieces.reduce(0) { $0 + $1.length }, chunk.count)
                }
                i += step
            }
            if step == 4096 { XCTAssertEqual(fastReads, 1, "the whole stream in one read") }
        }
    }

    func testFieldNamesMatchWhateverTheirCase() {
        var framer = HTTPFramer(direction: .responses)
        let pieces = framer.feed(Array("HTTP/1.1 200 OK\r\nlambda-runtime-AWS-request-id: abc\r\nContent-Length: 0\r\n\r\n".utf8))
        guard case .head(let h)? = pieces.first else { return XCTFail("no head") }
        XCTAssertEqual(h.field("Lambda-Runtime-Aws-Request-Id"), Array("abc".utf8))
        XCTAssertNil(h.field("Lambda-Runtime-Aws-Request"))
        XCTAssertNil(h.field("Lambda-Runtime-Aws-Request-Idx"))
    }
}
