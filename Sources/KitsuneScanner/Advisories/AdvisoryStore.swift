import Foundation

/// One advisory as stored for one package: the OSV fields needed to match and report.
public struct StoredAdvisory: Codable, Sendable, Equatable {
    public var id: String
    public var aliases: [String]
    public var modified: String?
    public var summary: String?
    public var severity: [OSVSeverity]
    public var databaseSeverity: String?
    /// The `affected` entries naming this package (usually one).
    public var affected: [OSVAffected]
    public var references: [String]

    enum CodingKeys: String, CodingKey {
        case id, aliases, modified, summary, severity, affected, references
        case databaseSeverity = "db_severity"
    }
}

/// The on-disk database: one file per ecosystem, `<dir>/<ecosystem>.kdb`, written atomically.
///
/// Layout: one line of JSON (the header: format, ecosystem, counts, sources, and an index from
/// normalized package name to `[offset, length]`), a newline, then the body: for each package a JSON
/// array of ``StoredAdvisory``. Opening a database reads only the headers (the file is memory-mapped);
/// a package's advisories are decoded when that package is looked up.
public enum AdvisoryStore {
    public static let format = "kitsune-osv-1"
    public static let fileExtension = "kdb"

    struct Header: Codable {
        var format: String
        var ecosystem: String
        var imported: String
        var sources: [String]
        var advisories: Int
        var index: [String: [Int]]
    }

    /// `$KITSUNE_DB` when set, else `~/.cache/kitsune/osv`.
    public static func defaultLocation(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = environment["KITSUNE_DB"], !p.isEmpty { return p }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".cache/kitsune/osv")
    }

    static func fileName(_ ecosystem: String) -> String {
        let safe = ecosystem.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        return String(safe) + "." + fileExtension
    }

    /// Serializes one ecosystem's advisories (package key → advisories).
    static func encode(ecosystem: String, packages: [String: [StoredAdvisory]], sources: [String]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var body = Data()
        var index: [String: [Int]] = [:]
        var ids = Set<String>()
        for key in packages.keys.sorted() {
            let list = (packages[key] ?? []).sorted { $0.id < $1.id }
            list.forEach { ids.insert($0.id) }
            let chunk = try encoder.encode(list)
            index[key] = [body.count, chunk.count]
            body.append(chunk)
        }
        let header = Header(format: format, ecosystem: ecosystem, imported: ISO8601DateFormatter().string(from: Date()),
                            sources: sources, advisories: ids.count, index: index)
        var out = try encoder.encode(header)
        out.append(0x0A)
        out.append(body)
        return out
    }

    /// A database file opened for lookups.
    struct EcosystemFile: Sendable {
        let path: String
        let header: Header
        let body: Data

        init(path: String) throws {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
                throw AdvisoryError.unreadable(path: path, reason: error.localizedDescription)
            }
            guard let nl = data.firstIndex(of: 0x0A) else {
                throw AdvisoryError.unreadable(path: path, reason: "not a Kitsune advisory database (no header line)")
            }
            let h: Header
            do { h = try JSONDecoder().decode(Header.self, from: data[data.startIndex..<nl]) } catch {
                throw AdvisoryError.unreadable(path: path, reason: "corrupt database header: \(error)")
            }
            guard h.format == AdvisoryStore.format else {
                throw AdvisoryError.unreadable(path: path, reason: "unsupported database format \(h.format); re-run kitsune db import")
            }
            self.path = path
            header = h
            body = data[(nl + 1)...]
        }

        func advisories(for key: String) throws -> [StoredAdvisory] {
            guard let span = header.index[key], span.count == 2, span[0] >= 0, span[1] >= 0,
                  span[0] + span[1] <= body.count else { return [] }
            let start = body.startIndex + span[0]
            do { return try JSONDecoder().decode([StoredAdvisory].self, from: body[start..<(start + span[1])]) } catch {
                throw AdvisoryError.unreadable(path: path, reason: "corrupt entry for \(key): \(error)")
            }
        }
    }

    /// Writes (merging with what is already there, newer `modified` wins) and returns the files written.
    @discardableResult
    public static func write(_ result: AdvisoryImport.Result, to directory: String) throws -> [String] {
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw AdvisoryError.unreadable(path: directory, reason: "cannot create database directory: \(error.localizedDescription)")
        }
        var written: [String] = []
        for (ecosystem, packages) in result.packages.sorted(by: { $0.key < $1.key }) {
            let path = (directory as NSString).appendingPathComponent(fileName(ecosystem))
            var merged = packages
            var sources = result.sources
            if fm.fileExists(atPath: path), let old = try? EcosystemFile(path: path) {
                sources = Array(Set(old.header.sources + sources)).sorted()
                for key in old.header.index.keys {
                    let existing = (try? old.advisories(for: key)) ?? []
                    var byID = Dictionary(existing.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                    for a in merged[key] ?? [] where (byID[a.id]?.modified ?? "") <= (a.modified ?? "") { byID[a.id] = a }
                    for id in result.withdrawn { byID[id] = nil }
                    merged[key] = Array(byID.values)
                }
            }
            let data = try encode(ecosystem: ecosystem, packages: merged, sources: sources)
            do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw AdvisoryError.unreadable(path: path, reason: "cannot write: \(error.localizedDescription)")
            }
            written.append(path)
        }
        return written
    }
}
