import Foundation

/// The per-function outcome of `kitsune deploy`.
public enum DeployOutcome: String, Sendable, Codable {
    case changed
    case wouldChange = "would-change"
    case already
    case skipped
    case failed
}

/// One line of the deploy report.
public struct DeployResult: Sendable, Codable, Equatable {
    public var function: String
    public var outcome: DeployOutcome
    /// What changed (or would change), or why it was skipped/failed.
    public var detail: String
}

/// The deploy report.
public struct DeployReport: Sendable, Codable, Equatable {
    public var mode: DeployMode
    public var dryRun: Bool
    public var layerARN: String
    public var selectors: [String]
    /// Functions in the region (before selection).
    public var scanned: Int
    public var results: [DeployResult]

    /// True when any function failed (the CLI exits 1).
    public var hasFailures: Bool { results.contains { $0.outcome == .failed } }

    /// Count per outcome.
    public func count(_ outcome: DeployOutcome) -> Int { results.filter { $0.outcome == outcome }.count }

    /// Human-readable report: one line per selected function and a summary.
    public func renderText() -> String {
        var lines: [String] = []
        let verb = mode == .attach ? "attach" : "remove"
        lines.append("kitsune deploy (\(verb)\(dryRun ? ", dry run" : "")) layer \(layerARN), selection \(selectors.joined(separator: " and "))")
        let width = max(8, results.map(\.function.count).max() ?? 8)
        for result in results {
            let name = result.function.padding(toLength: width, withPad: " ", startingAt: 0)
            let outcome = result.outcome.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            lines.append("  \(outcome) \(name)  \(result.detail)")
        }
        let summary = [DeployOutcome.changed, .wouldChange, .already, .skipped, .failed]
            .map { "\(count($0)) \($0.rawValue)" }.joined(separator: ", ")
        lines.append("\(results.count) of \(scanned) functions selected: \(summary)")
        return lines.joined(separator: "\n")
    }
}

/// Options of a deploy run.
public struct DeployOptions: Sendable {
    public var layer: LayerARN
    /// All selectors must match (AND).
    public var selectors: [FunctionSelector]
    public var mode: DeployMode
    public var dryRun: Bool
    /// Functions processed at once.
    public var concurrency: Int

    public init(layer: LayerARN, selectors: [FunctionSelector], mode: DeployMode = .attach, dryRun: Bool = false,
                concurrency: Int = 4) {
        self.layer = layer
        self.selectors = selectors
        self.mode = mode
        self.dryRun = dryRun
        self.concurrency = concurrency
    }
}

/// Runs deploy against an account: list → select by tags → re-read each selected function →
/// decide → one `UpdateFunctionConfiguration` per function (with its RevisionId, so a concurrent
/// change makes the update fail instead of being overwritten). Each function ends fully old or
/// fully new; failures are reported per function and never stop the others.
public struct Deployer: Sendable {
    public let client: AWSClient
    public let options: DeployOptions

    /// Throws when no selector is given (deploy never touches every function of an account).
    public init(client: AWSClient, options: DeployOptions) throws {
        guard !options.selectors.isEmpty else {
            throw AWSError.invalidInput("deploy needs at least one --select tag:KEY=VALUE (refusing to touch every function)")
        }
        self.client = client
        self.options = options
    }

    /// Runs the deploy. Throws only when the function list itself cannot be read.
    public func run(progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> DeployReport {
        let functions = try await client.lambda.listFunctions()
        let lambda = client.lambda
        let options = self.options
        // The layer's declared architectures (nil when it cannot be read: then not checked).
        let architectures = options.mode == .attach ? (try? await lambda.getLayerVersion(options.layer.unversioned, version: options.layer.version))?.compatibleArchitectures : nil
        let planner = DeployPlanner(layer: options.layer, mode: options.mode, layerArchitectures: architectures)
        let outcomes = await boundedMap(functions, limit: options.concurrency, progress: progress) { function -> DeployResult? in
            let tags: [String: String]
            do { tags = try await lambda.listTags(function.functionArn) } catch {
                return DeployResult(function: function.functionName, outcome: .failed,
                                    detail: "cannot read tags, so cannot tell whether it is selected: \(error)")
            }
            guard options.selectors.allSatisfy({ $0.matches(tags) }) else { return nil }
            return await Self.apply(function.functionName, planner: planner, dryRun: options.dryRun, lambda: lambda)
        }
        var results: [DeployResult] = []
        for (function, outcome) in zip(functions, outcomes) {
            switch outcome {
            case .success(let result?): results.append(result)
            case .success(nil): continue
            case .failure(let error):
                results.append(DeployResult(function: function.functionName, outcome: .failed, detail: "\(error)"))
            }
        }
        results.sort { $0.function < $1.function }
        return DeployReport(mode: options.mode, dryRun: options.dryRun, layerARN: options.layer.arn,
                            selectors: options.selectors.map(\.description), scanned: functions.count, results: results)
    }

    static func apply(_ name: String, planner: DeployPlanner, dryRun: Bool, lambda: LambdaClient) async -> DeployResult {
        let current: LambdaFunctionConfiguration
        do { current = try await lambda.getFunctionConfiguration(name) } catch {
            return DeployResult(function: name, outcome: .failed, detail: "cannot read configuration: \(error)")
        }
        switch planner.decide(current) {
        case .already(let reason): return DeployResult(function: name, outcome: .already, detail: reason)
        case .skipped(let reason): return DeployResult(function: name, outcome: .skipped, detail: reason)
        case .invalid(let reason): return DeployResult(function: name, outcome: .failed, detail: reason)
        case .update(let update, let summary):
            if dryRun { return DeployResult(function: name, outcome: .wouldChange, detail: summary) }
            do {
                let updated = try await lambda.updateFunctionConfiguration(name, update)
                if let layers = update.layers, updated.layerARNs != layers {
                    return DeployResult(function: name, outcome: .failed,
                                        detail: "AWS answered with layers \(updated.layerARNs) instead of \(layers)")
                }
                if let variables = update.environment, updated.variables != variables {
                    return DeployResult(function: name, outcome: .failed,
                                        detail: "AWS answered with different environment variables than requested")
                }
                return DeployResult(function: name, outcome: .changed, detail: summary)
            } catch {
                return DeployResult(function: name, outcome: .failed,
                                    detail: "update rejected, function left unchanged: \(error)")
            }
        }
    }
}
