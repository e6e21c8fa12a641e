import Foundation
import KitsuneFindings
import KitsunePolicy
#if canImport(Glibc)
import Glibc
#endif

/// Options of one scan.
public struct ScanOptions: Sendable {
    public var limits: ScanLimits
    /// Where the package lives at run time, written into the drift manifest (`/var/task`, `/opt`).
    public var manifestRoot: String

    public init(limits: ScanLimits = ScanLimits(), manifestRoot: String = "/var/task") {
        self.limits = limits
        self.manifestRoot = manifestRoot
    }
}

/// Everything one scan found.
public struct ScanResult: Sendable {
    /// Findings: secrets, forbidden executables, input problems, vulnerabilities (not yet ignore-filtered).
    public var findings: [Finding]
    public var packages: [DiscoveredPackage]
    public var executables: [ExecutableRecord]
    /// Drift manifest of the top-level executable content (what the enforcer reads).
    public var manifest: Manifest
    public var notes: [String]
    /// `files`, `bytes`, `archives`, `milliseconds`.
    public var statistics: [String: Int]
    public var startedAt: Date
    public var finishedAt: Date
}

/// The function assurance scanner: walks a Lambda zip, layer zip, directory or container root file
/// system once, without extracting anything, and feeds every file to the secret rules, the executable
/// inventory and the package catalogers; then matches the packages against advisories.
public struct FunctionScanner: Sendable {
    public let options: ScanOptions
    let secretRules: SecretRuleSet
    let forbidden: ForbiddenList
    let archiveTypes: ArchiveTypes
    let catalogers: [any PackageCataloger]
    let matcher: (any VulnerabilityMatcher)?

    public init(options: ScanOptions = ScanOptions(), secretRules: SecretRuleSet, forbidden: ForbiddenList,
                archiveTypes: ArchiveTypes, catalogers: [any PackageCataloger], matcher: (any VulnerabilityMatcher)?) {
        self.options = options
        self.secretRules = secretRules
        self.forbidden = forbidden
        self.archiveTypes = archiveTypes
        self.catalogers = catalogers
        self.matcher = matcher
    }

    /// A scanner with the built-in rule files from the scanner's resources.
    public static func builtIn(options: ScanOptions = ScanOptions(), catalogers: [any PackageCataloger] = [],
                               matcher: (any VulnerabilityMatcher)? = nil) throws -> FunctionScanner {
        FunctionScanner(options: options, secretRules: try .builtIn(), forbidden: try .builtIn(), archiveTypes: try .builtIn(),
                catalogers: catalogers, matcher: matcher)
    }

    /// Whether `path` looks like a CloudFormation/SAM template rather than a package (the CLI hands
    /// those to the template checker instead).
    public static func looksLikeTemplate(path: String) -> Bool {
        let lower = path.lowercased()
        guard [".yaml", ".yml", ".json", ".template"].contains(where: { lower.hasSuffix($0) }),
              let source = try? FileSource(path: path), let head = try? source.read(at: 0, count: 64 * 1024) else { return false }
        let text = String(decoding: head, as: UTF8.self)
        return text.contains("AWSTemplateFormatVersion") || text.contains("AWS::Serverless")
            || (text.contains("Resources") && text.contains("AWS::"))
    }

    /// Scans `path`. `configPath` is the JSON of `aws lambda get-function-configuration` (environment
    /// variables are scanned for secrets). Throws ``ScanInputError`` when the top-level input cannot
    /// be read at all; problems inside it are findings.
    public func scan(path: String, configPath: String? = nil, progress: ((ScanProgress) -> Void)? = nil) throws -> ScanResult {
        let analyzer = EntryAnalyzer(secretRules: secretRules, forbidden: forbidden, catalogers: catalogers,
                                     archiveTypes: archiveTypes, limits: options.limits)
        let session = ScanSession(analyzer: analyzer, progress: progress)
        let environment = try configPath.map { try LambdaConfiguration.load(path: $0) }

        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ScanInputError(input: path, reason: "cannot read: \(String(cString: strerror(errno)))")
        }
        do {
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                try DirectoryWalker(session: session, root: path).walk()
            case S_IFREG:
                try scanFile(path, session: session)
            default:
                throw ScanInputError(input: path, reason: "not a regular file or directory")
            }
        } catch let problem as EntryProblem {
            session.notes.append("Scan incomplete: \(ScanFindings.entryProblem(problem, path: path).message)")
        }
        if let environment, let configPath {
            for (name, value) in environment.variables.sorted(by: { $0.key < $1.key }) {
                let info = EntryInfo(path: "\(configPath)#Environment.Variables.\(name)", manifestPath: nil, permissions: nil, depth: 0)
                let line = "\(name)=\"\(value)\"\n"
                try session.process(info, reader: MemoryChunkReader(Array(line.utf8)))
            }
        }
        return finish(session)
    }

    private func scanFile(_ path: String, session: ScanSession) throws {
        let source = try FileSource(path: path)
        let head = try source.read(at: 0, count: 64)
        if ZipArchive.looksLikeZip(head) || path.lowercased().hasSuffix(".zip") {
            let archive = try ZipArchive(source: source, name: path, maxEntries: options.limits.maxEntries)
            try session.walk(archive, depth: 1, manifestPrefix: "")
        } else {
            let name = (path as NSString).lastPathComponent
            let info = EntryInfo(path: name, manifestPath: name, permissions: nil, depth: 0)
            try session.process(info, reader: FileChunkReader(source: source, limits: options.limits, budget: session.budget))
        }
    }

    func finish(_ session: ScanSession) -> ScanResult {
        // Manifest pins give way to lockfiles and installed copies beside them (no duplicates).
        let packages = Catalogers.merge(ManifestResolution.resolve(session.packages))
        var findings = ManifestResolution.resolve(session.findings, packages: packages)
            + SecretDeduplication.findings(from: session.secretHits)
        if let matcher { findings += matcher.findings(for: packages) }
        findings.sort { ($0.severity, $1.location?.path ?? "", $1.ruleID) > ($1.severity, $0.location?.path ?? "", $0.ruleID) }
        let finished = Date()
        let manifestRoot = options.manifestRoot
        return ScanResult(
            findings: findings, packages: packages,
            executables: session.executables.sorted { $0.path < $1.path },
            manifest: Manifest(root: manifestRoot, files: session.manifestFiles), notes: session.notes,
            statistics: ["files": session.files, "bytes": session.budget.used, "archives": session.archives,
                         "milliseconds": Int(finished.timeIntervalSince(session.started) * 1000)],
            startedAt: session.started, finishedAt: finished)
    }
}

/// Same secret (rule + secret hash) found in several files, e.g. one vendored test fixture copied
/// into many `node_modules` packages: reported once, with the number of occurrences and the paths.
enum SecretDeduplication {
    static let listedLocations = 20

    static func findings(from hits: [(SecretMatch, String)]) -> [Finding] {
        var order: [String] = []
        var groups: [String: [(SecretMatch, String)]] = [:]
        for hit in hits {
            let key = hit.0.ruleID + "|" + hit.0.secretHash
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(hit)
        }
        return order.compactMap { key in
            guard let group = groups[key], let first = group.first else { return nil }
            var finding = ScanFindings.secret(first.0, path: first.1)
            if group.count > 1 {
                let others = group.dropFirst().map { "\($0.1):\($0.0.line)" }
                finding.properties["occurrences"] = String(group.count)
                finding.properties["other_locations"] = others.prefix(listedLocations).joined(separator: ", ")
                    + (others.count > listedLocations ? ", … (\(others.count - listedLocations) more)" : "")
                finding.message += " The same secret appears in \(group.count) places."
            }
            return finding
        }
    }
}

extension FunctionScanner {
    /// The same scanner with other secret rules (`--secret-rules`).
    public func replacingSecretRules(_ rules: SecretRuleSet) -> FunctionScanner {
        FunctionScanner(options: options, secretRules: rules, forbidden: forbidden, archiveTypes: archiveTypes,
                catalogers: catalogers, matcher: matcher)
    }
}
