import Foundation
import KitsuneFindings
import KitsunePolicy
#if canImport(Glibc)
import Glibc
#endif

/// One run of the scanner over one input: walks it once and accumulates what the entries yield.
final class ScanSession {
    let analyzer: EntryAnalyzer
    let limits: ScanLimits
    let budget: ScanBudget
    let progress: ((ScanProgress) -> Void)?
    let started = Date()
    var secretHits: [(SecretMatch, String)] = []
    var findings: [Finding] = []
    var packages: [DiscoveredPackage] = []
    var executables: [ExecutableRecord] = []
    var manifestFiles: [ManifestFile] = []
    var notes: [String] = []
    var files = 0
    var archives = 0
    private var lastProgress = Date()

    init(analyzer: EntryAnalyzer, progress: ((ScanProgress) -> Void)?) {
        self.analyzer = analyzer
        self.limits = analyzer.limits
        self.budget = ScanBudget(limit: analyzer.limits.maxTotalBytes)
        self.progress = progress
    }

    /// Scans one entry and records what it yielded; walks it if it is a nested archive.
    func process(_ info: EntryInfo, reader: any ChunkSource) throws {
        let outcome = try analyzer.analyze(info, reader: reader)
        files += 1
        secretHits += outcome.secrets.map { ($0, info.path) }
        findings += outcome.findings
        packages += outcome.packages
        if let exe = outcome.executable { executables.append(exe) }
        if let file = outcome.manifestFile { manifestFiles.append(file) }
        reportProgress()
        if let nested = outcome.nestedArchive {
            if info.depth + 1 > limits.maxDepth {
                findings.append(ScanFindings.input("nesting-too-deep", severity: .medium, path: info.path,
                    title: "Nested archive beyond the depth limit",
                    message: "\(info.path) is an archive nested \(info.depth + 1) levels deep, beyond the limit of \(limits.maxDepth); its contents were not scanned."))
                return
            }
            do {
                let archive = try ZipArchive(source: MemorySource(bytes: nested), name: info.path, maxEntries: limits.maxEntries)
                try walk(archive, depth: info.depth + 1, manifestPrefix: nil)
            } catch let error as ScanInputError {
                findings.append(ScanFindings.input("unreadable-archive", severity: .medium, path: info.path,
                    title: "Nested archive could not be read", message: error.description))
            }
        }
    }

    /// Walks every entry of `archive`. `manifestPrefix` is non-nil for the top-level archive only.
    func walk(_ archive: ZipArchive, depth: Int, manifestPrefix: String?) throws {
        archives += 1
        let prefix = depth == 1 && manifestPrefix != nil ? "" : archive.name + "!/"
        let overlapping = archive.overlappingEntries()
        if !overlapping.isEmpty {
            findings.append(ScanFindings.input("zip-bomb", severity: .high, path: archive.name,
                title: "Zip bomb suspected (overlapping entries)",
                message: "\(archive.name): \(overlapping.count) entries share compressed data with other entries (e.g. \(overlapping.prefix(3).joined(separator: ", "))); the archive was not walked."))
            return
        }
        for entry in archive.entries {
            let path = prefix + entry.name
            if let why = Self.unsafeEntryName(entry.name) {
                findings.append(ScanFindings.input("zip-slip", severity: .high, path: path,
                    title: "Path traversal entry (zip slip)",
                    message: "\(path): entry name \(why); extracting this archive naively would write outside the target directory.",
                    kind: .misconfiguration))
            }
            if entry.isDirectory { continue }
            if entry.isSymlink {
                checkSymlink(entry, in: archive, path: path)
                continue
            }
            let manifestPath = manifestPrefix.map { Self.normalized($0 + entry.name) }
            let info = EntryInfo(path: path, manifestPath: manifestPath, permissions: entry.permissions, depth: depth)
            do {
                let reader = try ZipEntryReader(archive: archive, entry: entry, limits: limits, budget: budget)
                try process(info, reader: reader)
            } catch let problem as EntryProblem {
                findings.append(ScanFindings.entryProblem(problem, path: path))
                if case .totalLimitReached = problem { throw problem }
            } catch let error as ScanInputError {
                findings.append(ScanFindings.input("corrupt-entry", severity: .medium, path: path,
                    title: "Corrupt or truncated archive entry", message: error.description))
            }
        }
    }

    /// A zip symlink's target is its contents; absolute targets and `..` escapes are reported.
    private func checkSymlink(_ entry: ZipEntry, in archive: ZipArchive, path: String) {
        guard entry.uncompressedSize < 4096,
              let reader = try? ZipEntryReader(archive: archive, entry: entry, limits: limits, budget: budget),
              let bytes = try? reader.next() else { return }
        let target = String(decoding: bytes, as: UTF8.self)
        let directory = entry.name.split(separator: "/").dropLast().map(String.init)
        if target.hasPrefix("/") || Self.escapes(directory + target.split(separator: "/").map(String.init)) {
            findings.append(ScanFindings.input("symlink-escape", severity: .medium, path: path,
                title: "Symbolic link pointing outside the package",
                message: "\(path) is a symbolic link to \(target), outside the package root.", kind: .misconfiguration,
                properties: ["target": target]))
        }
    }

    /// Why an entry name is unsafe to extract, or nil.
    static func unsafeEntryName(_ name: String) -> String? {
        if name.hasPrefix("/") { return "is an absolute path" }
        if name.contains("\\") { return "contains a backslash (Windows path separator)" }
        if name.count >= 2, name.dropFirst().first == ":" { return "starts with a drive letter" }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains("..") { return "contains a '..' component" }
        return nil
    }

    /// Whether a `/`-separated path climbs above its root.
    static func escapes(_ components: [String]) -> Bool {
        var depth = 0
        for component in components where !component.isEmpty && component != "." {
            depth += component == ".." ? -1 : 1
            if depth < 0 { return true }
        }
        return false
    }

    static func normalized(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    private func reportProgress() {
        guard let progress, files % 64 == 0 else { return }
        let now = Date()
        guard now.timeIntervalSince(lastProgress) >= 0.25 else { return }
        lastProgress = now
        progress(ScanProgress(files: files, bytes: budget.used, elapsed: now.timeIntervalSince(started)))
    }
}

/// Where a running scan is.
public struct ScanProgress: Sendable {
    public var files: Int
    /// Uncompressed bytes read so far.
    public var bytes: Int
    public var elapsed: TimeInterval

    /// Throughput in MB/s.
    public var megabytesPerSecond: Double { elapsed > 0 ? Double(bytes) / 1_000_000 / elapsed : 0 }
}
