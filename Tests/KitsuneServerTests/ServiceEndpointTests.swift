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
