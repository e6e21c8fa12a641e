import Foundation
import KitsuneAWS
import KitsuneFindings
import KitsuneScanner

/// Runs a function's environment variables and, optionally, its downloaded code package through the
/// assurance scanner (`kitsune scan`'s engine), so `kitsune posture` reports secrets, forbidden
/// executables and vulnerable packages next to the configuration checks.
///
/// Per function: the configuration (same shape as `aws lambda get-function-configuration`) is written
/// to a private temporary directory and passed as the scanner's `configPath`; with ``scanCode`` the
/// package behind `GetFunction`'s `Code.Location` is downloaded (at most ``maxCodeBytes``) and scanned
/// too. Temporary files are deleted when the function is done. Findings get the function name as
/// `resource` and readable locations (`NAME.zip!/app.py`, `NAME.configuration.json#Environment.Variables.X`).
/// A package that cannot be scanned becomes a MANUAL finding, never silence.
public struct FunctionContentScan: Sendable {
    /// The scanner (rules, catalogers, advisory matcher) — the CLI builds it like `kitsune scan`.
    public var scanner: FunctionScanner
    /// Download and scan code packages (off by default in the CLI: packages can be large).
    public var scanCode: Bool
    /// Largest package downloaded, in bytes (the whole package is held in memory once).
    public var maxCodeBytes: Int
    /// Functions scanned at once (each holds at most one package in memory).
    public var concurrency: Int
    /// Notes copied into the report (e.g. "no advisory database: packages not matched").
    public var notes: [String]

    public init(scanner: FunctionScanner, scanCode: Bool = false, maxCodeBytes: Int = 256 << 20, concurrency: Int = 2,
                notes: [String] = []) {
        self.scanner = scanner
        self.scanCode = scanCode
        self.maxCodeBytes = maxCodeBytes
        self.concurrency = concurrency
        self.notes = notes
    }

    /// The scanner `kitsune scan` uses: built-in rules and every package cataloger, matching packages
    /// against `matcher` (an advisory database) when given.
    public static func standard(scanCode: Bool, maxCodeBytes: Int = 256 << 20, concurrency: Int = 2,
                                matcher: (any VulnerabilityMatcher)? = nil, notes: [String] = []) throws -> FunctionContentScan {
        FunctionContentScan(scanner: try FunctionScanner.builtIn(catalogers: Catalogers.all, matcher: matcher), scanCode: scanCode,
                            maxCodeBytes: maxCodeBytes, concurrency: concurrency, notes: notes)
    }

    /// What the scans produced.
    public struct Outcome: Sendable {
        public var findings: [Finding] = []
        /// Scanner notes, prefixed with the function name.
        public var notes: [String] = []
        /// Failures other than AccessDenied (network, throttling, 5xx): the run is partial.
        public var incomplete: [String] = []
        /// Code packages downloaded and scanned.
        public var codePackagesScanned = 0
    }

    /// The rule id of the MANUAL finding for a package that could not be scanned.
    public static let manualRuleID = "code-package-not-scanned"

    /// Scans every function's environment (and code, with ``scanCode``). Never throws: each function's
    /// problem is a MANUAL finding or a note.
    public func scan(_ functions: [LambdaFunction], client: AWSClient,
                     progress: (@Sendable (String) -> Void)? = nil) async -> Outcome {
        let results = await boundedMap(functions, limit: concurrency, progress: { done, total in
            progress?("scanner: \(done)/\(total) functions")
        }) { function in
            await self.scanOne(function, client: client.inRegion(function.region))
        }
        var outcome = Outcome()
        outcome.notes = notes
        for (function, result) in zip(functions, results) {
            switch result {
            case .success(let one):
                outcome.findings += one.findings
                outcome.notes += one.notes
                outcome.incomplete += one.incomplete
                outcome.codePackagesScanned += one.codePackagesScanned
            case .failure(let error):
                outcome.incomplete.append("\(function.name): content scan failed: \(error)")
            }
        }
        return outcome
    }

    private func scanOne(_ function: LambdaFunction, client: AWSClient) async -> Outcome {
        var outcome = Outcome()
        let workspace: URL
        do { workspace = try Self.privateDirectory() } catch {
            outcome.incomplete.append("\(function.name): cannot create a temporary directory for the scan: \(error)")
            return outcome
        }
        defer { try? FileManager.default.removeItem(at: workspace) }
        let configURL = workspace.appendingPathComponent("configuration.json")
        let codeURL = workspace.appendingPathComponent("code.zip")
        let emptyURL = workspace.appendingPathComponent("empty")
        var target = emptyURL
        do {
            try FileManager.default.createDirectory(at: emptyURL, withIntermediateDirectories: false)
            guard let variables = function.environment.value else {
                outcome.findings.append(manual(function, "environment variables",
                                               "they could not be read (\(function.environment.reason ?? "unknown reason"))"))
                return outcome
            }
            try Self.write(Self.configurationJSON(function, variables: variables), to: configURL)
            if scanCode, let bytes = await download(function, client: client, into: &outcome) {
                try Self.write(bytes, to: codeURL)
                target = codeURL
            }
            let result = try scanner.scan(path: target.path, configPath: configURL.path)
            if target == codeURL { outcome.codePackagesScanned += 1 }
            let labels = [(configURL.path, "\(function.name).configuration.json"), (codeURL.path, "\(function.name).zip"),
                          (emptyURL.path, "\(function.name)")]
            outcome.findings += result.findings.map { relabel($0, function, labels: labels, inCode: target == codeURL) }
            outcome.notes += result.notes.map { "\(function.name): \(Self.replacing(labels, in: $0))" }
        } catch {
            outcome.incomplete.append("\(function.name): scanner failed: \(error)")
            outcome.findings.append(manual(function, "environment variables and code", "the scanner failed: \(error)"))
        }
        return outcome
    }

    /// GetFunction, then the package download; problems become MANUAL findings (and partial notes
    /// unless access was denied).
    private func download(_ function: LambdaFunction, client: AWSClient, into outcome: inout Outcome) async -> [UInt8]? {
        let what = "code package"
        let got: LambdaGetFunctionOutput
        do { got = try await client.lambda.getFunction(function.name) } catch {
            record(error, function, what, "lambda:GetFunction failed: \(error)", into: &outcome)
            return nil
        }
        if got.configuration.packageType == "Image" || got.code?.repositoryType == "ECR" {
            outcome.findings.append(manual(function, what, "it is a container image (\(got.code?.imageUri ?? "ECR")); scan the image's root file system with `kitsune scan`"))
            return nil
        }
        if let size = got.configuration.codeSize, size > maxCodeBytes {
            outcome.findings.append(manual(function, what, "it is \(size) bytes, above the download limit of \(maxCodeBytes) bytes"))
            return nil
        }
        guard let location = got.code?.location, !location.isEmpty else {
            outcome.findings.append(manual(function, what, "GetFunction returned no Code.Location to download"))
            return nil
        }
        do { return try await client.downloadCodePackage(from: location, maxBytes: maxCodeBytes) } catch {
            record(error, function, what, "download failed: \(error)", into: &outcome)
            return nil
        }
    }

    private func record(_ error: any Error, _ function: LambdaFunction, _ what: String, _ reason: String,
                        into outcome: inout Outcome) {
        outcome.findings.append(manual(function, what, reason))
        if !((error as? AWSError)?.isAccessDenied ?? false) { outcome.incomplete.append("\(function.name): \(what): \(reason)") }
    }

    private func manual(_ function: LambdaFunction, _ what: String, _ reason: String) -> Finding {
        Finding(id: Fingerprint.of([Self.manualRuleID, function.arn, what]), ruleID: Self.manualRuleID, kind: .inputError,
                status: .manual, severity: .medium, title: "Function content not scanned",
                message: "Kitsune did not run the \(what) of \(function.name) through the scanner: \(reason).",
                location: Location(path: function.arn), resource: function.name,
                remediation: "Download the package (`aws lambda get-function`) and run `kitsune scan PACKAGE --config CONFIG.json`.",
                properties: ["function_arn": function.arn, "region": function.region])
    }

    private func relabel(_ finding: Finding, _ function: LambdaFunction, labels: [(String, String)], inCode: Bool) -> Finding {
        var out = finding
        if var location = out.location {
            let replaced = Self.replacing(labels, in: location.path)
            location.path = replaced != location.path || !inCode ? replaced : "\(function.name).zip!/\(location.path)"
            out.location = location
        }
        out.message = Self.replacing(labels, in: out.message)
        out.resource = function.name
        out.properties["function_arn"] = function.arn
        out.properties["region"] = function.region
        out.properties["source"] = out.location?.path.hasPrefix("\(function.name).configuration.json") == true ? "environment" : "code"
        out.id = Fingerprint.of([out.ruleID, function.arn, out.location?.path ?? "", String(out.location?.line ?? 0),
                                 out.properties["secret_sha256_16"] ?? ""])
        return out
    }

    private static func replacing(_ labels: [(String, String)], in text: String) -> String {
        labels.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// The configuration as `get-function-configuration` shows it (the fields the scanner reads).
    static func configurationJSON(_ function: LambdaFunction, variables: [String: JSONValue]) throws -> [UInt8] {
        var env: [String: String] = [:]
        for (name, value) in variables {
            if case .string(let text) = value { env[name] = text }
        }
        var object: [String: Any] = ["FunctionName": function.name, "FunctionArn": function.arn,
                                     "Environment": ["Variables": env]]
        if let runtime = function.runtime.value ?? nil { object["Runtime"] = runtime }
        if let layers = function.layers.value { object["Layers"] = layers.map { ["Arn": $0] } }
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// A fresh directory only this user can read (environment variables often hold secrets).
    static func privateDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-content-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return url
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw AWSError.invalidInput("cannot write the temporary file \(url.path)")
        }
    }
}
