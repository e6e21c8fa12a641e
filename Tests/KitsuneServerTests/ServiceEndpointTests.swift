import Foundation
import XCTest
import Yams
@testable import KitsuneServer

/// Health, readiness, metrics and the OpenAPI document, checked against the running server.
final class ServiceEndpointTests: XCTestCase {
    func testHealthReadinessAndMetrics() async throws {
        try await forEachBackend { s in
            assertEqual(try await s.request("GET", "/healthz").status, 200)
            assertEqual(try await s.request("GET", "/readyz").status, 200)
            let g = try await s.group()
            _ = try await s.post([sampleEvent(), sampleEvent(["reason": "honeypot"])], token: g.token)
            let metrics = String(decoding: try await s.request("GET", "/metrics").body, as: UTF8.self)
            XCTAssertTrue(metrics.contains("kitsune_events_accepted_total 2"), metrics)
            XCTAssertTrue(metrics.contains("kitsune_ingest_batch_seconds_count 1"), metrics)
            XCTAssertTrue(metrics.contains(#"kitsune_http_requests_total{method="POST",route="/api/v1/events",status="202"} 1"#), metrics)
            XCTAssertFalse(metrics.contains(g.token) || metrics.contains(g.id), "no ids or tokens in label values")
            let unauthorized = try await s.request("GET", "/api/v1/events")
            XCTAssertEqual(unauthorized.status, 401)
            XCTAssertEqual(unauthorized.headers["www-authenticate"], "Bearer")
        }
    }

    /// A connection that sends nothing, or dribbles its headers a byte a while (a slowloris), is
    /// closed after the idle timeout; one that sends its request in time is answered.
    func testIdleAndDribblingConnectionsAreClosed() async throws {
        let s = try await TestServer(.sqlite) { $0.idleTimeout = .seconds(1) }
        let idle = try RawConnection(port: s.port), dribbling = try RawConnection(port: s.port)
        let started = ContinuousClock.now
        var closed = (idle: false, dribbling: false)
        for byte in "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8 where ContinuousClock.now - started < .seconds(8) {
            closed.dribbling = closed.dribbling || !dribbling.send([byte]) || dribbling.isClosed()
            closed.idle = closed.idle || idle.isClosed()
            if closed.idle && closed.dribbling { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertTrue(closed.idle, "a connection that sent nothing is still open")
        XCTAssertTrue(closed.dribbling, "a connection dribbling its headers is still open")
        let prompt = try RawConnection(port: s.port)
        XCTAssertTrue(prompt.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)))
        XCTAssertTrue(prompt.readAll().hasPrefix("HTTP/1.1 200"))
        await s.stop()
    }

    /// A body sent a byte at a time after its headers (a slow-body attack on ingest) has its
    /// connection closed at the body timeout; a body sent in time is taken.
    func testABodyThatDoesNotArriveInTimeClosesTheConnection() async throws {
        let s = try await TestServer(.sqlite) { $0.bodyTimeout = .seconds(1) }
        let g = try await s.group()
        // With a token (the handler reads the body) and without (a 401: the server drains the rest).
        for authorization in ["Authorization: Bearer \(g.token)\r\n", ""] {
            let slow = try RawConnection(port: s.port)
            let head = "POST /api/v1/events HTTP/1.1\r\nHost: x\r\n\(authorization)Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n["
            XCTAssertTrue(slow.send(Array(head.utf8)))
            let started = ContinuousClock.now
            while slow.send(Array(" ".utf8)) && !slow.isClosed() && ContinuousClock.now - started < .seconds(8) { try await Task.sleep(for: .milliseconds(200)) }
            let took = ContinuousClock.now - started
            XCTAssertTrue(slow.isClosed(), "a body dribbled for \(took) is still being read (\(authorization.isEmpty ? "no token" : "token"))")
            XCTAssertGreaterThanOrEqual(took, .milliseconds(900), "closed before the body timeout")
        }
        assertEqual(try await s.post([sampleEvent()], token: g.token).status, 202)
        await s.stop()
    }

    /// Every route the server has is in the document and every operation of the document is a route;
    /// the document is valid OpenAPI 3.1 (openapi-spec-validator).
    func testOpenAPIDescribesTheRunningServer() async throws {
        let s = try await TestServer(.sqlite)
        defer { Task { await s.stop() } }
        let r = try await s.request("GET", "/openapi.yaml")
        XCTAssertEqual(r.status, 200)
        let text = String(decoding: r.body, as: UTF8.self)
        let document = try XCTUnwrap(try Yams.load(yaml: text) as? [String: Any])
        XCTAssertEqual(document["openapi"] as? String, "3.1.0")
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        var documented = Set<String>()
        for (path, item) in paths {
            for method in ((item as? [String: Any]) ?? [:]).keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let served = Set(s.plane.router().routes.map { route in
            "\(route.method.rawValue) " + route.path.description.replacingOccurrences(of: ":id", with: "{id}")
        }.map { $0.hasPrefix("GET /") || $0.contains(" /") ? $0 : $0.replacingOccurrences(of: " ", with: " /") })
        XCTAssertEqual(documented, served, "documented but not served: \(documented.subtracting(served)); served but not documented: \(served.subtracting(documented))")
        // Each documented GET without parameters in its path answers, unauthenticated, 200 or 401 — never 404.
        for route in documented where route.hasPrefix("GET ") && !route.contains("{") {
            let status = try await s.request("GET", String(route.dropFirst(4))).status
            XCTAssertTrue([200, 401].contains(status), "\(route): \(status)")
        }
        let file = s.directory + "/openapi.yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let validator = Process()
        validator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        validator.arguments = ["python3", "-c", "import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename(sys.argv[1])[0]); print('valid')", file]
        let out = Pipe()
        validator.standardOutput = out
        validator.standardError = out
        try validator.run()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        validator.waitUntilExit()
        XCTAssertEqual(validator.terminationStatus, 0, said)
    }
}

/// A plain TCP connection to the test server, for what an HTTP client would not send.
final class RawConnection {
    let fd: Int32
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw TestFailure("connect to 127.0.0.1:\(port): errno \(errno)") }
    }
    deinit { close(fd) }
    /// False when the write fails (the first write after the peer closed may still pass: ask `isClosed`).
    func send(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count }
    /// True when the peer has closed: reads that do not block, past whatever it sent (a 401), answer
    /// end of file (or a reset). What it sent is consumed.
    func isClosed() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { continue }
            return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
        }
    }
    /// Everything until the peer closes (or 5 s pass).
    func readAll() -> String {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
