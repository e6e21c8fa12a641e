import Foundation
import KitsuneAWS
import KitsuneFindings

/// `kitsune posture` end to end: collect the account, run the checks, build the shared report.
public struct PostureRun: Sendable {
    public var client: AWSClient
    public var options: CollectorOptions
    public var trustedAccounts: Set<String>
    /// Include PASS findings in the report (FAIL, MANUAL and ERROR are always included).
    public var includePass: Bool
    /// Also run each selected function's environment variables (and, if enabled, code package) through
    /// the scanner; nil skips it.
    public var contentScan: FunctionContentScan?

    public init(client: AWSClient, options: CollectorOptions, trustedAccounts: Set<String> = [], includePass: Bool = false,
                contentScan: FunctionContentScan? = nil) {
        self.client = client
        self.options = options
        self.trustedAccounts = trustedAccounts
        self.includePass = includePass
        self.contentScan = contentScan
    }

    /// The result: the report to render and whether it is partial (an API failed mid-run).
    public struct Result: Sendable {
        public var report: ScanReport
        public var isPartial: Bool

        /// Exit status with the scan conventions: 1 when a FAIL finding is at or above `threshold`;
        /// otherwise 2 when the run is partial (a green gate on incomplete data would be a false PASS);
        /// otherwise 0.
        public func exitCode(threshold: FailThreshold) -> Int32 {
            if threshold.isExceeded(by: report.findings) { return 1 }
            return isPartial ? 2 : 0
        }
    }

    public func run(now: Date = Date()) async throws -> Result {
        let started = Date()
        let snapshot = try await SnapshotCollector(client: client).collect(options)
        let engine = try PostureEngine.standard()
        var outcome = engine.run(snapshot, now: now, trustedAccounts: trustedAccounts)
        var counts: [String: Int] = ["functions": snapshot.functions.count, "roles": snapshot.roles.count]
        var scannerNotes: [String] = []
        if let contentScan {
            let content = await contentScan.scan(snapshot.functions, client: client, progress: options.progress)
            outcome.findings += content.findings
            outcome.incomplete += content.incomplete
            scannerNotes = content.notes
            counts["scanned_functions"] = snapshot.functions.count
            counts["scanned_code_packages"] = content.codePackagesScanned
        }
        for finding in outcome.findings { counts["status_\(finding.status.rawValue.lowercased())", default: 0] += 1 }
        var notes = outcome.incomplete.map { "PARTIAL: \($0)" } + scannerNotes
        if outcome.isPartial {
            notes.insert("PARTIAL RESULTS: some AWS calls failed; functions or facts below may be missing. Checks that could not be evaluated are MANUAL, never PASS.", at: 0)
        }
        let runtimes = engine.runtimes
        notes.append("Runtime deprecation dates compiled \(runtimes.compiled) from \(runtimes.source).")
        let target = "aws account \(snapshot.accountID ?? "unknown") regions \(options.regions.joined(separator: ","))"
        let findings = outcome.findings.filter { includePass || $0.status != .pass }
        let report = ScanReport(target: target, startedAt: started, finishedAt: Date(), findings: findings,
                                notes: notes, statistics: counts)
        return Result(report: report, isPartial: outcome.isPartial)
    }

    /// Parses `--tag KEY=VALUE` arguments; throws naming the bad argument.
    public static func parseTags(_ arguments: [String]) throws -> [String: String] {
        var tags: [String: String] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw AWSError.invalidInput("--tag \(argument): expected KEY=VALUE")
            }
            tags[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
        }
        return tags
    }
}
