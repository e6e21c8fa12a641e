import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A local Lambda execution environment for one function.
///
/// ```swift
/// let emulator = try LambdaEmulator(configuration: config)
/// let results = try emulator.invoke(events: [Data("{}".utf8)])
/// print(results[0].report.line)
/// emulator.shutdown()
/// ```
///
/// The Runtime API and Extensions API are served on 127.0.0.1 (`port`). The runtime and
/// extensions run in a private mount namespace (code at /var/task, layers at /opt, both read-only,
/// a private writable /tmp) as an unprivileged user with `no_new_privs`. One cold start serves
/// many invocations; after a timeout or a crash the next invocation starts a new sandbox, as in
/// Lambda. Not thread-safe: use one emulator from one thread.
public final class LambdaEmulator {
    /// The largest response or error document a runtime may post (Lambda: 6 MB).
    public static let maxPayloadBytes = 6 * 1024 * 1024

    /// The function this emulator runs.
    public let configuration: EmulatorConfiguration
    /// The Runtime API port on 127.0.0.1.
    public var port: UInt16 { server.port }
    /// How "Max Memory Used" is measured on this host.
    public var memorySource: String { tracker?.memorySource ?? ProcessTracker.fallbackSource }

    /// Kills the sandbox from another thread (e.g. on SIGINT); see `EmulatorKillSwitch`.
    public let killSwitch = EmulatorKillSwitch()

    let server: HTTPServer
    let layout: SandboxLayout
    let command: RuntimeCommand
    let baseEnvironment: [String: String]
    let extensionEnvironment: [String: String]
    let logRead: Int32
    let logWrite: Int32
    var logBuffer: [UInt8] = []

    // State of the current sandbox.
    var phase: Phase = .cold
    var tracker: ProcessTracker?
    var runtimeProcess: SpawnedProcess?
    var extensionProcesses: [String: SpawnedProcess] = [:] // file name → process
    var extensionFiles: Set<String> = []                     // every extension file started
    var extensions: [String: ExtensionState] = [:]          // identifier → state
    var runtimeWaiting: Int?                                 // connection holding /invocation/next
    var current: Invocation?
    var initFailure: (type: String, body: Data)?
    var sandboxFailure: (type: String, message: String)?
    var shuttingDown = false
    var shutdownReason: String?
    var shutdownDeadlineMs: Int64 = 0
    var sandboxCount = 0

    enum Phase { case cold, initializing, ready }

    struct ExtensionState {
        var name: String
        var events: Set<String>
        var waiting: Int?
        /// Working on the current INVOKE (has not come back to /event/next yet).
        var busy = false
        var shutdownSent = false
        var shutdownDone = false
        /// An event to hand over at the extension's next /event/next.
        var pendingEvent: Data?
    }

    struct Invocation {
        var id: String
        var request: InvocationRequest
        var deadlineMs: Int64
        var traceID: String
        var start: UInt64
        var delivered = false
        var response: Data?
        var functionErrorType: String?
        var responseTooLarge = false
    }

    /// Validates the configuration, prepares /var/task, /opt and /tmp, and binds the Runtime API.
    /// Nothing runs until the first invocation (the cold start).
    public init(configuration: EmulatorConfiguration) throws(EmulatorError) {
        try configuration.validate()
        self.configuration = configuration
        let catalog = try RuntimeCatalog.bundled()
        let spec = try catalog.spec(for: configuration.runtime)
        let environment = try LambdaEnvironment.bundled()
        // Fail early on a reserved key, before touching the file system.
        _ = try environment.build(configuration, runtimeAPI: "", managed: false, runtimeExtras: [:])
        guard getuid() == 0 else {
            throw .sandboxUnavailable("the emulator needs root (or CAP_SYS_ADMIN) for its private mount namespace and to switch to uid \(configuration.sandboxUID); run it as root or in a container")
        }
        let layout = try SandboxLayout.prepare(configuration, runtimeDirectory: try RuntimeCatalog.runtimeDirectory())
        do {
            let wrapper = spec.kind == .managed ? configuration.environment["AWS_LAMBDA_EXEC_WRAPPER"] : nil
            let command = try RuntimeCommand.resolve(runtimeID: configuration.runtime, spec: spec, handler: configuration.handler,
                                                     execWrapper: wrapper, hostPath: layout.hostPath)
            let server = try HTTPServer(port: configuration.port, maxBodyBytes: Self.maxPayloadBytes)
            let api = "127.0.0.1:\(server.port)"
            self.baseEnvironment = try environment.build(configuration, runtimeAPI: api, managed: spec.kind == .managed,
                                                         runtimeExtras: command.environment)
            self.extensionEnvironment = try environment.build(configuration, runtimeAPI: api, managed: spec.kind == .managed,
                                                              runtimeExtras: [:])
            guard let logPipe = makePipe(nonBlockingRead: true) else { throw EmulatorError.system("pipe: \(errnoText(errno))") }
            self.logRead = logPipe.read
            self.logWrite = logPipe.write
            self.layout = layout
            killSwitch.setStagingRoot(layout.root)
            self.command = command
            self.server = server
        } catch let error as EmulatorError {
            layout.remove()
            throw error
        } catch {
            layout.remove()
            throw .system("\(error)")
        }
    }

    deinit {
        if phase != .cold || tracker != nil { _ = teardown(reason: "spindown") }
        close(logRead)
        close(logWrite)
        layout.remove()
    }

    /// Invokes the function once per event (JSON bytes), in order, in the same sandbox while it lives.
    public func invoke(events: [Data]) -> [InvocationResult] {
        events.map { invoke(InvocationRequest(payload: $0)) }
    }

    /// Invokes the function with `request`; a cold start happens first when no sandbox is running.
    public func invoke(_ request: InvocationRequest) -> InvocationResult {
        if request.payload.count > Self.maxPayloadBytes {
            // Lambda's Invoke API refuses such a request before any code runs.
            let id = UUID().uuidString.lowercased()
            let type = "RequestEntityTooLargeException"
            let message = "Request must be smaller than \(Self.maxPayloadBytes) bytes for the InvokeFunction operation (got \(request.payload.count))"
            return InvocationResult(requestId: id, status: .error, payload: Self.errorDocument(type, message), errorType: type,
                                    report: InvocationReport(requestId: id, durationMs: 0, billedDurationMs: 0,
                                                             memorySizeMB: configuration.memoryMB, maxMemoryUsedMB: 0,
                                                             status: "error", errorType: type),
                                    logs: "")
        }
        // A runtime that died while idle is replaced before the event is handed out, as in Lambda.
        for attempt in 0..<2 {
            if phase == .ready {
                tracker?.setFrozen(false)
                noticeIdleExits()
            }
            var initDuration: Double?
            if phase != .ready {
                let started = Self.now()
                let failure = initialize()
                initDuration = Self.elapsedMs(since: started)
                if let failure {
                    return finishFailedInit(failure, initDuration: initDuration ?? 0)
                }
            }
            if let result = runInvocation(request, initDuration: initDuration, mayRetry: attempt == 0) {
                return result
            }
        }
        // Unreachable: the second attempt never asks for a retry.
        return finishFailedInit(Failure(type: "Runtime.Unknown", message: "the sandbox could not take the event"), initDuration: 0)
    }

    /// Reaps processes that exited between invocations; a dead sandbox is torn down.
    private func noticeIdleExits() {
        for process in trackedProcesses() { checkExit(process.pid, block: false) }
        drainLogs()
        if sandboxFailure != nil { _ = teardown(reason: "failure") }
    }

    /// Ends the sandbox like Lambda's spindown: SHUTDOWN to extensions (2000 ms), then kills
    /// every remaining process and removes the cgroups. The emulator can be used again afterwards.
    @discardableResult
    public func shutdown() -> ShutdownResult {
        let notified = teardown(reason: "spindown")
        drainLogs()
        let logs = takeLogs()
        return ShutdownResult(extensionsNotified: notified.names, logs: logs, leakedProcesses: notified.leaked.map { Int32($0) }.sorted())
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func elapsedMs(since start: UInt64) -> Double { Double(now() &- start) / 1_000_000 }
    static func epochMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

extension ProcessTracker {
    static let fallbackSource = "sum of VmHWM over the process tree"
}
