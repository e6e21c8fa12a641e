import Foundation
import XCTest
@testable import KitsuneServer

/// The dashboard's files as served: a strict Content-Security-Policy on every page, no inline script
/// or style anywhere in them, no markup-parsing DOM call in the scripts, and nothing outside them served.
final class DashboardPageTests: XCTestCase {
    static var webDirectory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/KitsuneServer/ServerData/web") }

    func testEveryPageHasAStrictCSPAndOnlyExternalScripts() async throws {
        let s = try await TestServer(.sqlite)
        do {
            for page in WebDashboard<APIContext>.pages.sorted() {
                let r = try await s.request("GET", page)
                XCTAssertEqual(r.status, 200, page)
                XCTAssertEqual(r.headers["content-type"], "text/html; charset=utf-8", page)
                let csp = try XCTUnwrap(r.headers["content-security-policy"], page)
                for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'",
                                  "require-trusted-types-for 'script'", "object-src", "connect-src 'self'"] where directive != "object-src" {
                    XCTAssertTrue(csp.contains(directive), "\(page): CSP lacks \(directive): \(csp)")
                }
                XCTAssertFalse(csp.contains("unsafe"), "\(page): \(csp)")
                XCTAssertEqual(r.headers["x-frame-options"], "DENY")
                XCTAssertEqual(r.headers["x-content-type-options"], "nosniff")
                let html = String(decoding: r.body, as: UTF8.self)
                // Every script has a src; no inline style sheet or style attribute; no inline handler.
                XCTAssertNil(html.range(of: #"<script(?![^>]*\bsrc=)"#, options: .regularExpression), "\(page): inline script")
                XCTAssertNil(html.range(of: #"<style|\sstyle=|\son[a-z]+="#, options: .regularExpression), "\(page): inline style or handler")
            }
            // Each referenced asset is served with its type and the same CSP.
            let html = String(decoding: try await s.request("GET", "/").body, as: UTF8.self)
            let refs = html.matches(of: #/(?:src|href)="(/assets/[a-z.]+)"/#).map { String($0.1) }
            XCTAssertGreaterThanOrEqual(refs.count, 8)
            for ref in refs {
                let r = try await s.request("GET", ref)
                XCTAssertEqual(r.status, 200, ref)
                XCTAssertTrue(r.headers["content-type"]?.hasPrefix(ref.hasSuffix(".js") ? "text/javascript" : "text/css") == true, ref)
                XCTAssertNotNil(r.headers["content-security-policy"])
                let etag = try XCTUnwrap(r.headers["etag"])
                let v1 = try await TestHTTP.request("GET", s.base + ref, headers: ["If-None-Match": etag]).status
                XCTAssertEqual(v1, 304)
            }
            // Nothing but the bundled files: traversal, unknown names, the directory itself.
            for path in ["/assets/../openapi.yaml", "/assets/%2e%2e/migrations/001-initial.sql", "/assets/", "/assets/index.html", "/assets/nope.js", "/events/x"] {
                let v2 = try await s.request("GET", path).status
                XCTAssertEqual(v2, 404, path)
            }
            // A POST to a page path is not the page.
            let v3 = try await s.request("POST", "/events").status
            XCTAssertNotEqual(v3, 200)
        }
        await s.stop()
    }

    /// The scripts never hand text to an HTML parser: no innerHTML, outerHTML, insertAdjacentHTML,
    /// document.write, eval or Function(); links only through K.safeHref.
    func testScriptsUseNoMarkupParsingCalls() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.webDirectory.path).filter { $0.hasSuffix(".js") }
        XCTAssertGreaterThanOrEqual(files.count, 8)
        for file in files {
            let text = try String(contentsOf: Self.webDirectory.appendingPathComponent(file), encoding: .utf8)
            for banned in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"style", "javascript:"] {
                XCTAssertFalse(text.contains(banned), "\(file) uses \(banned)")
            }
            XCTAssertLessThan(text.split(separator: "\n").count, 400, "\(file) is over 400 lines")
        }
    }
}
