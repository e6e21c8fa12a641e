import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The dashboard's files (`ServerData/web/`), read once at start-up and served from memory: the one
/// HTML page at `/` and at each page's path (the page's script routes on the path), and its scripts
/// and style sheet under `/assets/`. Every answer carries a strict Content-Security-Policy: scripts and
/// styles only from this server's files (never inline), no frames, no plug-ins, no `innerHTML`
/// (Trusted Types), so an event's text can never become markup or code in an engineer's browser.
struct WebDashboard<Context: RequestContext>: RouterMiddleware {
    struct Asset: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        var etag: String
    }

    /// The dashboard's pages: each path answers the same HTML.
    static var pages: Set<String> {
        ["/", "/login", "/events", "/incidents", "/functions", "/policies", "/groups", "/alerts", "/audit"]
    }

    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
    }

    let index: Asset?
    let assets: [String: Asset]

    init() {
        var assets: [String: Asset] = [:]
        let candidates = [Bundle.module.bundleURL, Bundle.module.resourceURL].compactMap { $0?.appendingPathComponent("ServerData/web") }
        if let dir = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }),
           let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) {
            for name in names {
                guard let data = try? Data(contentsOf: dir.appendingPathComponent(name)), let type = Self.contentType(name) else { continue }
                let etag = "\"" + SHA256.hash(data: data).prefix(12).hexString + "\""
                assets[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: type, etag: etag)
            }
        }
        index = assets.removeValue(forKey: "index.html")
        self.assets = assets
    }

    static func contentType(_ name: String) -> String? {
        if name.hasSuffix(".html") { return "text/html; charset=utf-8" }
        if name.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".svg") { return "image/svg+xml" }
        return nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else { return try await next(request, context) }
        let path = request.uri.path
        let asset: Asset?
        if Self.pages.contains(path) {
            guard let index else { throw HTTPError(.notFound, message: "the dashboard is missing from this installation") }
            asset = index
        } else if path.hasPrefix("/assets/") {
            asset = assets[String(path.dropFirst(8))]
            if asset == nil { throw HTTPError(.notFound, message: "no such dashboard file") }
        } else {
            return try await next(request, context)
        }
        guard let asset else { return try await next(request, context) }
        var headers: HTTPFields = [.contentType: asset.contentType]
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = asset.etag
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        headers[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=(), payment=()"
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: request.method == .head ? .init() : .init(byteBuffer: asset.bytes))
    }
}
