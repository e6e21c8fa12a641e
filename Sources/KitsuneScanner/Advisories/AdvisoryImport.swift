import Foundation

/// Reads OSV advisories from osv.dev `all.zip` archives, single OSV JSON files, or directories of
/// them, and groups them by ecosystem and normalized package name.
public enum AdvisoryImport {
    /// What an import produced.
    public struct Result: Sendable {
        /// ecosystem → normalized package name → advisories.
        public var packages: [String: [String: [StoredAdvisory]]] = [:]
        /// Number of (non-withdrawn) advisories read.
        public var advisories = 0
        /// Ids of withdrawn advisories (ignored, and removed from an existing database).
        public var withdrawn: Set<String> = []
        /// Advisories whose packages are in ecosystems Kitsune does not match (e.g. Linux distributions).
        public var skippedEcosystems = 0
        /// Files that could not be read or decoded, with the reason (import continues past them).
        public var problems: [String] = []
        public var sources: [String] = []
    }

    /// Imports every path (zip, JSON file or directory).
    public static func load(paths: [String], table: EcosystemTable = .shared) throws -> Result {
        var result = Result()
        for path in paths { try load(path: path, into: &result, table: table) }
        return result
    }

    static func load(path: String, into result: inout Result, table: EcosystemTable) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw AdvisoryError.unreadable(path: path, reason: "no such file or directory")
        }
        result.sources.append(path)
        if isDir.boolValue {
            guard let walker = FileManager.default.enumerator(atPath: path) else {
                throw AdvisoryError.unreadable(path: path, reason: "cannot list directory")
            }
            var files: [String] = []
            while let rel = walker.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(rel)
                if rel.hasSuffix(".json") || rel.hasSuffix(".zip") { files.append(full) }
            }
            for f in files.sorted() {
                if f.hasSuffix(".zip") { try loadZip(f, into: &result, table: table) } else {
                    guard let data = FileManager.default.contents(atPath: f) else {
                        result.problems.append("\(f): unreadable"); continue
                    }
                    add(json: data, source: f, into: &result, table: table)
                }
            }
        } else if path.hasSuffix(".zip") || isZip(path) {
            try loadZip(path, into: &result, table: table)
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AdvisoryError.unreadable(path: path, reason: "cannot read file")
            }
            add(json: data, source: path, into: &result, table: table)
        }
    }

    static func isZip(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: 4)) == Data([0x50, 0x4B, 0x03, 0x04])
    }

    /// Reads every `*.json` record of an osv.dev `all.zip` with the scanner's own zip reader (bounded:
    /// the same zip-bomb, size and CRC checks as a package scan).
    static func loadZip(_ path: String, into result: inout Result, table: EcosystemTable) throws {
        let limits = ScanLimits(maxEntries: 2_000_000)
        let zip: ZipArchive
        do { zip = try ZipArchive(source: try FileSource(path: path), name: path, maxEntries: limits.maxEntries) } catch {
            throw AdvisoryError.unreadable(path: path, reason: "not a readable zip archive: \(error)")
        }
        let budget = ScanBudget(limit: limits.maxTotalBytes)
        for entry in zip.entries where entry.name.hasSuffix(".json") && !entry.isDirectory {
            do {
                let reader = try ZipEntryReader(archive: zip, entry: entry, limits: limits, budget: budget)
                var bytes: [UInt8] = []
                while let chunk = try reader.next() { bytes += chunk }
                add(json: Data(bytes), source: "\(path)!/\(entry.name)", into: &result, table: table)
            } catch {
                result.problems.append("\(path)!/\(entry.name): \(error)")
            }
        }
    }

    /// Decodes one OSV record and files it under each affected package it names.
    static func add(json: Data, source: String, into result: inout Result, table: EcosystemTable) {
        let record: OSVRecord
        do { record = try JSONDecoder().decode(OSVRecord.self, from: json) } catch {
            result.problems.append("\(source): not a valid OSV record: \(describe(error))")
            return
        }
        if let w = record.withdrawn, !w.isEmpty { result.withdrawn.insert(record.id); return }
        var counted = false, skipped = false
        var perPackage: [String: [String: [OSVAffected]]] = [:]
        for affected in record.affected ?? [] {
            guard let pkg = affected.package else { continue }
            let eco = EcosystemTable.baseEcosystem(pkg.ecosystem)
            guard table.entries[eco] != nil else { skipped = true; continue }
            perPackage[eco, default: [:]][table.normalizedName(pkg.name, ecosystem: eco), default: []].append(affected)
        }
        for (eco, names) in perPackage {
            for (key, affected) in names {
                let stored = StoredAdvisory(
                    id: record.id, aliases: record.aliases ?? [], modified: record.modified,
                    summary: record.summary ?? record.details.map(shortSummary),
                    severity: record.severity ?? [], databaseSeverity: record.databaseSpecific?.severity,
                    affected: affected, references: (record.references ?? []).map(\.url))
                result.packages[eco, default: [:]][key, default: []].append(stored)
                counted = true
            }
        }
        if counted { result.advisories += 1 } else if skipped { result.skippedEcosystems += 1 }
    }

    /// A one-line summary from `details` when an advisory has no `summary` (PyPA records): the first
    /// sentence, cut at 160 characters.
    static func shortSummary(_ details: String) -> String {
        let firstLine = details.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        var s = firstLine
        if let dot = firstLine.range(of: ". ") { s = String(firstLine[..<dot.lowerBound]) + "." }
        return s.count > 160 ? String(s.prefix(159)) + "…" : s
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing field \(ctx.codingPath.map(\.stringValue).joined(separator: "."))\(ctx.codingPath.isEmpty ? "" : ".")\(key.stringValue)"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
        case DecodingError.dataCorrupted(let ctx):
            return "\(ctx.debugDescription) \(ctx.underlyingError.map { "(\($0))" } ?? "") at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }
}
