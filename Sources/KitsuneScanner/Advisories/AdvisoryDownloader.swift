import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `kitsune db update`: downloads osv.dev's per-ecosystem `all.zip` files and imports them.
public struct AdvisoryDownloader: Sendable {
    /// osv.dev's public bucket.
    public static let defaultBase = "https://osv-vulnerabilities.storage.googleapis.com"

    public let base: String
    public let timeout: TimeInterval

    public init(base: String = AdvisoryDownloader.defaultBase, timeout: TimeInterval = 300) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.timeout = timeout
    }

    /// What one update did.
    public struct Report: Sendable {
        public var ecosystem: String
        public var url: String
        public var bytes: Int
        public var advisories: Int
        public var problems: [String]
    }

    /// The URL of an ecosystem's archive: `<base>/<ecosystem>/all.zip`.
    public func url(for ecosystem: String) throws -> URL {
        let encoded = ecosystem.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? ecosystem
        guard let u = URL(string: "\(base)/\(encoded)/all.zip"), u.scheme == "http" || u.scheme == "https" else {
            throw AdvisoryError.download(url: "\(base)/\(ecosystem)/all.zip", reason: "not an http(s) URL")
        }
        return u
    }

    /// Downloads and imports each ecosystem (default: every ecosystem Kitsune matches) into `directory`.
    public func update(ecosystems: [String], into directory: String) async throws -> [Report] {
        let list = ecosystems.isEmpty ? EcosystemTable.shared.entries.keys.sorted() : ecosystems
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: config)
        var reports: [Report] = []
        for eco in list {
            let u = try url(for: eco)
            let (data, response): (Data, URLResponse)
            do { (data, response) = try await session.data(from: u) } catch {
                throw AdvisoryError.download(url: u.absoluteString, reason: error.localizedDescription)
            }
            guard let http = response as? HTTPURLResponse else {
                throw AdvisoryError.download(url: u.absoluteString, reason: "no HTTP response")
            }
            guard http.statusCode == 200 else {
                throw AdvisoryError.download(url: u.absoluteString, reason: "HTTP status \(http.statusCode)")
            }
            let tmp = FileManager.default.temporaryDirectory
                .appendingPathComponent("kitsune-osv-\(UUID().uuidString).zip")
            try data.write(to: tmp)
            defer { try? FileManager.default.removeItem(at: tmp) }
            var result = try AdvisoryImport.load(paths: [tmp.path])
            result.sources = [u.absoluteString]
            try AdvisoryStore.write(result, to: directory)
            reports.append(Report(ecosystem: eco, url: u.absoluteString, bytes: data.count,
                                  advisories: result.advisories, problems: result.problems))
        }
        return reports
    }
}
