import XCTest
@testable import KitsuneLambda

final class HTTPParserTests: LambdaTestCase {
    private let parser = HTTPRequestParser(maxBodyBytes: 100)

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testContentLengthKeepAliveAndPipelining() {
        let two = bytes("POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n")
        guard case .request(let first, let used) = parser.parse(two) else { return XCTFail("first request") }
        XCTAssertEqual(first.method, "POST")
        XCTAssertEqual(first.body, bytes("abc"))
        XCTAssertTrue(first.keepAlive)
        guard case .request(let second, _) = parser.parse(Array(two[used...])) else { return XCTFail("second request") }
        XCTAssertEqual(second.path, "/b")
        XCTAssertFalse(second.keepAlive)
        XCTAssertEqual(parser.parse(bytes("POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nab")), .needMore)
    }

    func testChunkedBodies() {
        let chunked = bytes("POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n")
        guard case .request(let request, let used) = parser.parse(chunked) else { return XCTFail("chunked") }
        XCTAssertEqual(request.body, bytes("Wikipedia"))
        XCTAssertEqual(used, chunked.count)
        XCTAssertEqual(parser.parse(Array(chunked.prefix(chunked.count - 2))), .needMore)
        XCTAssertEqual(parser.parse(bytes("POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")),
                       .failure(status: 400, message: "malformed chunk size 'zz'"))
    }

    func testLimitsAndMalformedInput() {
        XCTAssertEqual(parser.parse(bytes("POST /r HTTP/1.1\r\nContent-Length: 101\r\n\r\n")),
                       .failure(status: 413, message: "request body of 101 bytes exceeds the limit of 100 bytes"))
        let bigChunk = bytes("POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n")
        XCTAssertEqual(parser.parse(bigChunk), .failure(status: 413, message: "chunked request body exceeds the limit of 100 bytes"))
        XCTAssertEqual(parser.parse(bytes("GARBAGE\r\n\r\n")), .failure(status: 400, message: "malformed request line"))
        XCTAssertEqual(parser.parse(bytes("GET / HTTP/2.0\r\n\r\n")), .failure(status: 505, message: "unsupported HTTP version HTTP/2.0"))
        XCTAssertEqual(parser.parse(bytes("POST / HTTP/1.1\r\nContent-Length: -4\r\n\r\n")),
                       .failure(status: 400, message: "invalid Content-Length '-4'"))
        XCTAssertEqual(parser.parse(Array(repeating: UInt8(ascii: "a"), count: 70_000)),
                       .failure(status: 431, message: "request header larger than 65536 bytes"))
        XCTAssertEqual(parser.parse(bytes("GET / HTTP/1.1\r\nno colon here\r\n\r\n")), .failure(status: 400, message: "malformed header line"))
    }

    func testResponseIsOneBufferWithLength() {
        let out = String(decoding: HTTPResponse(status: 202, headers: [("X", "y")], body: bytes("ok")).serialized(keepAlive: false), as: UTF8.self)
        XCTAssertEqual(out, "HTTP/1.1 202 Accepted\r\nX: y\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    }
}
