import ArgumentParser
import Foundation
import KitsuneAWS
import KitsuneFindings
import KitsunePosture
import KitsuneScanner
#if canImport(Glibc)
import Glibc
#endif

/// `kitsune posture`: CIS AWS Compute 4.x and execution-role permissions of the live account.
struct PostureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "posture",
        abstract: "Check every Lambda function of the account: CIS AWS Compute 4.1–4.12 and execution-role permissions.",
        discussion: """
        Exit status: 0 no FAIL at or above --fail-on, 1 FAIL findings at or above it, 2 usage/credential error or \
        partial results (an AWS call failed mid-run). Checks that cannot be evaluated are MANUAL or ERROR, never PASS. \
        Environment variables always go through the scanner too; --scan-code also downloads and scans each code package.
        """)

    @Option(name: .customLong("region"), help: "Region to check (repeatable; default: the configured region).")
    var regions: [String] = []

    @Option(name: .customLong("function"), help: "Only functions whose name matches this glob (* and ?).")
    var function: String?

    @Option(name: .customLong("tag"), help: "Only functions with this tag, KEY=VALUE (repeatable, all must match).")
    var tags: [String] = []

    @Option(help: "AWS profile (like the AWS CLI's --profile).")
    var profile: String?

    @Option(name: .customLong("trusted-account"), help: "Account id whose access is expected (CIS 4.10; repeatable).")
    var trustedAccounts: [String] = []

    @Option(help: "table, json, sarif or ocsf.")
    var format: String = "table"

    @Option(help: "Write the report to this file (atomically) instead of standard output.")
    var output: String?

    @Option(name: .customLong("fail-on"), help: "critical, high, medium, low or never.")
    var failOn: String = "high"

    @Option(help: "AWS calls in flight at once.")
    var concurrency: Int = 8

    @Flag(name: .customLong("include-pass"), help: "Also list passing checks.")
    var includePass = false

    @Flag(name: .customLong("scan-code"), help: "Also download each function's code package and run it through the scanner (environment variables are always scanned).")
    var scanCode = false

    @Option(name: .customLong("max-code-mb"), help: "Largest code package downloaded with --scan-code, in MiB.")
    var maxCodeMB: Int = 256

    @Option(name: .customLong("db"), help: "Advisory database for --scan-code package matching (default: kitsune db's location).")
    var databases: [String] = []

    func run() async throws {
        let code: Int32
        do {
            code = try await execute()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("kitsune posture: error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if code != 0 { throw ExitCode(code) }
    }

    private func usage(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("kitsune posture: error: \(message)\n".utf8))
        return ExitCode(2)
    }

    /// The scanner pass over environment variables (always) and code packages (`--scan-code`).
    private func contentScan() throws -> FunctionContentScan {
        var notes: [String] = []
        var matcher: (any VulnerabilityMatcher)?
        if scanCode {
            do { matcher = try AdvisoryDatabase.open(paths: databases) } catch {
                if !databases.isEmpty { throw error }
                notes.append("No advisory database (\(error)); code packages were inventoried but not matched against advisories.")
            }
        }
        return try FunctionContentScan.standard(scanCode: scanCode, maxCodeBytes: maxCodeMB << 20, matcher: matcher, notes: notes)
    }

    private func execute() async throws -> Int32 {
        guard let reportFormat = ReportFormat(rawValue: format.lowercased()), reportFormat != .cyclonedx else {
            throw usage("--format must be one of table, json, sarif, ocsf, not \"\(format)\"")
        }
        guard let threshold = FailThreshold(rawValue: failOn.lowercased()) else {
            throw usage("--fail-on must be one of \(FailThreshold.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(failOn)\"")
        }
        guard concurrency > 0 else { throw usage("--concurrency must be positive") }
        guard maxCodeMB > 0, maxCodeMB <= 10_240 else { throw usage("--max-code-mb must be between 1 and 10240") }
        let client = try AWSClient.fromEnvironment(profile: profile, region: regions.first)
        let tty = isatty(STDERR_FILENO) == 1
        var progress: (@Sendable (String) -> Void)?
        if tty {
            progress = { line in FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
        }
        let selectedTags = try PostureRun.parseTags(tags)
        let options = CollectorOptions(regions: regions.isEmpty ? [client.region] : regions, functionGlob: function,
                                       tags: selectedTags, concurrency: concurrency, progress: progress)
        let result = try await PostureRun(client: client, options: options, trustedAccounts: Set(trustedAccounts),
                                          includePass: includePass, contentScan: try contentScan()).run()
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let data = try reportFormat.render(result.report)
        if let output { try AtomicFile.write(data, to: output) } else { FileHandle.standardOutput.write(data) }
        if result.isPartial {
            FileHandle.standardError.write(Data("kitsune posture: results are PARTIAL (an AWS call failed mid-run); see the report notes\n".utf8))
        }
        return result.exitCode(threshold: threshold)
    }
}
