import Foundation

/// What to run.
public struct DemoOptions: Sendable {
    /// The modes to run, in order (default: enforce, then audit).
    public var modes: [DemoMode]
    /// The enforcer to bake into the layer; `nil`: the one next to `kitsune` (`EnforcerBinary.locate()`).
    public var enforcer: URL?
    /// Keep the working directory (function, layers, policies) after the run.
    public var keepWorkspace: Bool
    /// Where the working directory is created.
    public var workspaceParent: URL

    /// Creates options; the defaults are those of `kitsune demo`.
    public init(modes: [DemoMode] = [.enforce, .audit], enforcer: URL? = nil, keepWorkspace: Bool = false,
                workspaceParent: URL = FileManager.default.temporaryDirectory) {
        self.modes = modes
        self.enforcer = enforcer
        self.keepWorkspace = keepWorkspace
        self.workspaceParent = workspaceParent
    }
}

/// Runs the demo story: for each mode, one layer and one cold start of the vulnerable function in
/// the local Lambda emulator (AWS's awslambdaric behind `AWS_LAMBDA_EXEC_WRAPPER`), then one
/// invocation per step.
///
/// ```swift
/// let runner = DemoRunner(options: DemoOptions(modes: [.enforce]))
/// let run = try runner.run { step in print(DemoRenderer().render(step)) }
/// exit(run.exitCode)
/// ```
public final class DemoRunner: Sendable {
    /// The options.
    public let options: DemoOptions
    /// The story told.
    public let story: DemoStory
    /// Stops a running demo from another thread (a signal handler).
    public let interrupt = DemoInterrupt()

    /// A runner for `story` (default: the story shipped in `Data/demo/story.json`).
    public init(options: DemoOptions, story: DemoStory? = nil) throws(DemoError) {
        guard !options.modes.isEmpty else { throw .invalidOption("no mode to run") }
        self.options = options
        if let story { self.story = story } else { self.story = try DemoStory.bundled() }
    }

    /// Checks the host (root, enforcer, Python with awslambdaric) without running anything.
    public func checkHost() throws(DemoError) -> DemoHost {
        try DemoHost.check(enforcer: options.enforcer, runtimes: story.function.runtimes)
    }

    /// Runs every mode; `onStep` sees each result as soon as it is known (for progressive output).
    /// Throws only when the demo cannot run (`DemoError`); how the function fared is in the result.
    public func run(onStep: (DemoStepResult) -> Void = { _ in }) throws(DemoError) -> DemoRun {
        let host = try checkHost()
        let workspace = try DemoWorkspace.create(in: options.workspaceParent)
        interrupt.setWorkspace(options.keepWorkspace ? nil : workspace.root)
        defer {
            interrupt.setWorkspace(nil)
            if !options.keepWorkspace { workspace.remove() }
        }
        let base: String
        do { base = String(decoding: try LayerBuilder.resource("policy.yaml"), as: UTF8.self) } catch {
            throw .setup("\(error)")
        }
        try workspace.writeFunction(story)
        var policies: [DemoMode: String] = [:]
        for mode in options.modes {
            let policy = try DemoPolicy.text(base: base, mode: mode, allow: story.function.allow)
            try workspace.writeLayer(mode, enforcer: host.enforcer, policy: policy)
            policies[mode] = policy
        }
        var steps: [DemoStepResult] = []
        for mode in options.modes {
            steps += try run(mode, host: host, workspace: workspace, honeypot: DemoPolicy.hasHoneypot(base), onStep: onStep)
        }
        return DemoRun(modes: options.modes, story: story, runtime: host.runtime, steps: steps, policies: policies,
                       policyHasHoneypot: DemoPolicy.hasHoneypot(base),
                       keptWorkspace: options.keepWorkspace ? workspace.root : nil)
    }

    /// One cold start in `mode`, then every step.
    private func run(_ mode: DemoMode, host: DemoHost, workspace: DemoWorkspace, honeypot: Bool,
                     onStep: (DemoStepResult) -> Void) throws(DemoError) -> [DemoStepResult] {
        let fn = story.function
        let configuration = EmulatorConfiguration(
            code: workspace.function, handler: fn.handler, runtime: host.runtime, layers: [workspace.layer(mode)],
            timeoutSeconds: fn.timeoutSeconds, memoryMB: fn.memoryMB,
            environment: ["AWS_LAMBDA_EXEC_WRAPPER": LayerBuilder.wrapperPath], functionName: fn.name)
        let emulator: LambdaEmulator
        do { emulator = try LambdaEmulator(configuration: configuration) } catch { throw .emulator(error.description) }
        interrupt.setKillSwitch(emulator.killSwitch)
        defer {
            interrupt.setKillSwitch(nil)
            emulator.shutdown()
        }
        var results: [DemoStepResult] = []
        for (index, step) in story.steps.enumerated() {
            let payload: Data
            do { payload = try JSONSerialization.data(withJSONObject: ["url": step.url]) } catch {
                throw .setup("step \(step.id): cannot encode its event: \(error)")
            }
            let result = emulator.invoke(InvocationRequest(payload: payload))
            let events = DemoEvent.events(in: result.logs)
            let stepResult = DemoStepResult(
                mode: mode, index: index, count: story.steps.count, step: step, requestId: result.requestId,
                status: result.status, answer: DemoAnswer(result), report: result.report,
                events: events.filter(\.isDecision), started: events.first { $0.action == "started" }, logs: result.logs,
                honeypotConfigured: honeypot)
            onStep(stepResult)
            results.append(stepResult)
        }
        return results
    }
}

/// Stops a running demo from any thread: kills the sandbox of the current emulator and removes the
/// working directory (unless it is kept). Used by the CLI on SIGINT/SIGTERM/SIGHUP.
public final class DemoInterrupt: @unchecked Sendable {
    // @unchecked: every access goes through the lock.
    private let lock = NSLock()
    private var killSwitch: EmulatorKillSwitch?
    private var workspace: URL?

    init() {}

    func setKillSwitch(_ value: EmulatorKillSwitch?) { lock.lock(); killSwitch = value; lock.unlock() }
    func setWorkspace(_ value: URL?) { lock.lock(); workspace = value; lock.unlock() }

    /// Kills the current sandbox's processes and removes the working directory.
    public func fire() {
        lock.lock()
        defer { lock.unlock() }
        killSwitch?.fire()
        if let workspace { try? FileManager.default.removeItem(at: workspace) }
    }
}
