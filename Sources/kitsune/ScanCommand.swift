import ArgumentParser
import Foundation
import KitsuneContainer
import KitsuneFindings
import KitsunePosture
import KitsuneScanner
#if canImport(Glibc)
import Glibc
#endif

/// `kitsune scan`: may this package ship? Libraries, secrets, executables, SBOM, CI gate.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a Lambda zip, layer zip, directory or container root file system before it ships.",
        discussion: """
        Exit status: 0 no failure (FAIL) at or above --fail-on, 1 failures at or above it, 2 usage or input error. \
        Results that could not be evaluated (MANUAL) or met malformed input (ERROR) never count as failures.
        """)

    @Argument(help: "Lambda deployment zip, layer zip, directory, or container root file system.")
    var path: String

    @Option(help: "JSON of `aws lambda get-function-configuration` (environment variables are scanned).")
    var config: String?

    @Option(name: .customLong("db"), help: "Advisory database: kitsune db directory, .kdb, osv all.zip or OSV JSON directory (repeatable).")
    var databases: [String] = []

    @Option(help: "table, json, sarif, ocsf or cyclonedx.")
    var format: String = "table"

    @Option(help: "Write the report to this file (atomically) instead of standard output.")
    var output: String?

    @Option(name: .customLong("fail-on"), help: "critical, high, medium, low or never.")
    var failOn: String = "high"

    @Option(help: "YAML file of accepted exceptions (id, or rule + path glob; reason; optional expires).")
    var ignore: String?

    @Option(name: .customLong("manifest-out"), help: "Write the executable drift manifest the enforcer reads.")
    var manifestOut: String?

    @Option(name: .customLong("manifest-root"), help: "Run-time root recorded in the manifest (/var/task, /opt, /).")
    var manifestRoot: String = "/var/task"

    @Option(name: .customLong("secret-rules"), help: "Secret rules file replacing the built-in rules (same JSON schema).")
    var secretRules: String?

    @Option(name: .customLong("max-total-mb"), help: "Stop after this many uncompressed megabytes in total.")
    var maxTotalMB: Int = 16 * 1024

    @Option(name: .customLong("max-entry-mb"), help: "Largest single file or entry, in megabytes.")
    var maxEntryMB: Int = 4 * 1024

    @Option(name: .customLong("max-ratio"), help: "Compression ratio treated as a zip bomb.")
    var maxRatio: Int = 200

    @Option(name: .customLong("max-depth"), help: "Nesting depth of archives inside archives.")
    var maxDepth: Int = 4

    @Option(name: .customLong("max-entries"), help: "Entries in one archive.")
    var maxEntries: Int = 500_000

    func run() async throws {
        do {
            try execute()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("kitsune scan: error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func usage(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("kitsune scan: error: \(message)\n".utf8))
        return ExitCode(2)
    }

    private func execute() throws {
        guard let reportFormat = ReportFormat(rawValue: format.lowercased()) else {
            throw usage("--format must be one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(format)\"")
        }
        guard let threshold = FailThreshold(rawValue: failOn.lowercased()) else {
            throw usage("--fail-on must be one of \(FailThreshold.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(failOn)\"")
        }
        guard maxTotalMB > 0, maxEntryMB > 0, maxRatio > 0, maxDepth >= 0, maxEntries > 0 else {
            throw usage("limits must be positive")
        }
        let ignores = try ignore.map { try IgnoreFile.load(path: $0) }
        if FunctionScanner.looksLikeTemplate(path: path) || TemplateScan.isTemplate(path: path) {
            // CloudFormation/SAM templates go to the template checks (KitsunePosture), same report and gate.
            return try scanTemplate(ignores: ignores, format: reportFormat, threshold: threshold)
        }
        var notes: [String] = []
        var matcher: (any VulnerabilityMatcher)?
        do {
            matcher = try AdvisoryDatabase.open(paths: databases)
        } catch {
            if !databases.isEmpty { throw error }
            notes.append("No advisory database (\(error)); packages were inventoried but not matched against advisories.")
        }
        let limits = ScanLimits(maxTotalBytes: maxTotalMB << 20, maxEntryBytes: maxEntryMB << 20, maxCompressionRatio: maxRatio,
                                maxEntries: maxEntries, maxDepth: maxDepth)
        let options = ScanOptions(limits: limits, manifestRoot: manifestRoot)
        var scanner = try FunctionScanner.builtIn(options: options, catalogers: Catalogers.all, matcher: matcher)
        if let secretRules { scanner = scanner.replacingSecretRules(try SecretRuleSet.load(contentsOf: secretRules)) }

        let meter = ProgressMeter(enabled: isatty(STDERR_FILENO) == 1)
        let result = try scanInput(scanner, progress: meter.update)
        meter.finish()

        var findings = result.findings
        var suppressed: [SuppressedFinding] = []
        if let ignores {
            let applied = ignores.apply(to: findings)
            findings = applied.kept
            suppressed = applied.suppressed
            notes += applied.notes
        }
        let report = ScanReport(target: path, startedAt: result.startedAt, finishedAt: result.finishedAt, findings: findings,
                                packages: result.packages, executables: result.executables, suppressed: suppressed,
                                notes: result.notes + notes, statistics: result.statistics)
        let data = try reportFormat.render(report)
        if let output {
            try AtomicFile.write(data, to: output)
        } else {
            FileHandle.standardOutput.write(data)
        }
        if let manifestOut { try AtomicFile.write(result.manifest.jsonData(), to: manifestOut) }
        for note in notes where reportFormat != .table {
            FileHandle.standardError.write(Data("note: \(note)\n".utf8))
        }
        if threshold.isExceeded(by: findings) { throw ExitCode(1) }
    }
}

extension ScanCommand {
    /// `kitsune scan template.yaml`: the static posture checks with their Checkov ids.
    func scanTemplate(ignores: IgnoreFile?, format reportFormat: ReportFormat, threshold: FailThreshold) throws {
        let started = Date()
        var findings: [Finding]
        var notes: [String]
        do { (findings, notes) = try TemplateScan.report(path: path) } catch {
            FileHandle.standardError.write(Data("kitsune scan: error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var suppressed: [SuppressedFinding] = []
        if let ignores {
            let applied = ignores.apply(to: findings)
            findings = applied.kept
            suppressed = applied.suppressed
            notes += applied.notes
        }
        let report = ScanReport(target: path, startedAt: started, finishedAt: Date(), findings: findings, packages: [],
                                executables: [], suppressed: suppressed, notes: notes, statistics: [:])
        let data = try reportFormat.render(report)
        if let output { try AtomicFile.write(data, to: output) } else { FileHandle.standardOutput.write(data) }
        if threshold.isExceeded(by: findings) { throw ExitCode(1) }
    }
}

/// Files scanned and MB/s on standard error, only when it is a terminal.
private final class ProgressMeter: @unchecked Sendable {
    // @unchecked: called from the scanning thread only.
    let enabled: Bool
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: ScanProgress) {
        guard enabled else { return }
        shown = true
        let line = String(format: "\r\u{1B}[Kscanning: %d files, %.1f MB, %.1f MB/s", progress.files,
                          Double(progress.bytes) / 1_000_000, progress.megabytesPerSecond)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
