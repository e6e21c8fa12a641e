import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Cold start, invocation and teardown of the sandbox.
extension LambdaEmulator {
    struct Failure {
        var type: String
        var message: String
        var body: Data?
    }

    /// The init phase: extensions start and register, then the runtime starts; init ends when the
    /// runtime and every extension wait in their `next` call. Returns the failure, if any.
    func initialize() -> Failure? {
        sandboxCount += 1
        phase = .initializing
        initFailure = nil
        sandboxFailure = nil
        shuttingDown = false
        shutdownReason = nil
        extensions = [:]
        runtimeWaiting = nil
        tracker = ProcessTracker(name: "kitsune-lambda-\(getpid())-\(sandboxCount)-\(UInt32.random(in: 0...UInt32.max))",
                                 memoryLimitBytes: UInt64(configuration.memoryMB) * 1024 * 1024, killSwitch: killSwitch)
        let deadline = Self.now() + UInt64(configuration.initTimeoutSeconds * 1e9)
        let failed = { self.initFailure != nil || self.sandboxFailure != nil }

        // Extensions: every executable file in /opt/extensions, before the runtime.
        let extensionDir = layout.opt + "/extensions"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: extensionDir)) ?? []).sorted()
        for name in names where FileManager.default.isExecutableFile(atPath: extensionDir + "/" + name) {
            let path = "/opt/extensions/" + name
            do {
                extensionProcesses[name] = try start(path, arguments: [path], environment: extensionEnvironment)
                extensionFiles.insert(name)
            } catch {
                return Failure(type: "Extension.LaunchError", message: "cannot start extension \(name): \(error)")
            }
        }
        let registered = pump(deadline: deadline) { failed() || self.extensions.count >= self.extensionProcesses.count }
        if let failure = initOutcome(timedOut: !registered) { return failure }

        do {
            runtimeProcess = try start(command.executable, arguments: command.arguments, environment: baseEnvironment)
        } catch {
            return Failure(type: "Runtime.InvalidEntrypoint", message: "\(error)")
        }
        let ready = pump(deadline: deadline) {
            failed() || (self.runtimeWaiting != nil && self.extensions.values.allSatisfy { $0.waiting != nil })
        }
        if let failure = initOutcome(timedOut: !ready) { return failure }
        phase = .ready
        return nil
    }

    private func initOutcome(timedOut: Bool) -> Failure? {
        if let initFailure {
            return Failure(type: initFailure.type, message: Self.message(in: initFailure.body) ?? initFailure.type, body: initFailure.body)
        }
        if let sandboxFailure { return Failure(type: sandboxFailure.type, message: sandboxFailure.message) }
        if timedOut {
            return Failure(type: "Sandbox.Timedout",
                           message: "Init phase timed out after \(String(format: "%.2f", configuration.initTimeoutSeconds)) seconds")
        }
        return nil
    }

    /// Starts one sandbox process whose output goes to the log pipe.
    private func start(_ executable: String, arguments: [String], environment: [String: String]) throws(EmulatorError) -> SpawnedProcess {
        let spec = SpawnSpec(executable: executable, arguments: arguments, environment: environment, mounts: layout.mounts,
                             workingDirectory: "/var/task", uid: configuration.sandboxUID, gid: configuration.sandboxGID,
                             outputFD: logWrite)
        let tracker = self.tracker
        return try SandboxSpawner().spawn(spec) { pid in tracker?.adopt(pid) }
    }

    /// Result of an invocation whose cold start failed: Lambda answers with the init error.
    func finishFailedInit(_ failure: Failure, initDuration: Double) -> InvocationResult {
        let id = UUID().uuidString.lowercased()
        let memory = peakMemoryMB()
        platformLog("INIT_REPORT Init Duration: \(InvocationReport.ms(initDuration)) ms\tPhase: init\tStatus: error\tError Type: \(failure.type)")
        _ = teardown(reason: "failure")
        drainLogs()
        let payload = failure.body ?? Self.errorDocument(failure.type, failure.message)
        let report = InvocationReport(requestId: id, durationMs: initDuration, billedDurationMs: Self.billed(initDuration),
                                      memorySizeMB: configuration.memoryMB, maxMemoryUsedMB: memory,
                                      initDurationMs: initDuration, status: "error", errorType: failure.type)
        return InvocationResult(requestId: id, status: .error, payload: payload, errorType: failure.type, report: report, logs: takeLogs())
    }

    /// Runs one invocation in the ready sandbox. Returns `nil` (when `mayRetry`) if the sandbox
    /// died before the runtime took the event: the caller starts a new sandbox and tries again.
    func runInvocation(_ request: InvocationRequest, initDuration: Double?, mayRetry: Bool) -> InvocationResult? {
        let id = UUID().uuidString.lowercased()
        let start = Self.now()
        let deadlineMs = Self.epochMs() + Int64(configuration.timeoutSeconds * 1000)
        current = Invocation(id: id, request: request, deadlineMs: deadlineMs, traceID: Self.traceID(), start: start)
        drainLogs()
        platformLog("START RequestId: \(id) Version: $LATEST")
        deliverPending()
        let deadline = start + UInt64(configuration.timeoutSeconds * 1e9)
        let finished = pump(deadline: deadline) {
            self.sandboxFailure != nil || (self.current?.response != nil && self.extensions.values.allSatisfy { !$0.busy })
        }
        let duration = Self.elapsedMs(since: start)
        let memory = peakMemoryMB()
        let treeRSS = configuration.measureProcessTreeRSS ? tracker?.treeHighWaterMarkBytes() : nil
        let inv = current ?? Invocation(id: id, request: request, deadlineMs: deadlineMs, traceID: "", start: start)
        if finished, mayRetry, !inv.delivered, sandboxFailure != nil {
            current = nil
            _ = teardown(reason: "failure")
            drainLogs()
            return nil
        }
        var status: InvocationResult.Status
        var payload: Data
        var errorType: String?
        var reportStatus: String?
        if let response = inv.response, finished {
            payload = response
            errorType = inv.functionErrorType
            status = errorType == nil ? .success : .functionError
        } else if !finished {
            let seconds = String(format: "%.2f", configuration.timeoutSeconds)
            platformLog("\(Self.timestamp()) \(id) Task timed out after \(seconds) seconds")
            status = .timeout
            errorType = "Sandbox.Timedout"
            reportStatus = "timeout"
            payload = Self.errorDocument("Sandbox.Timedout", "RequestId: \(id) Error: Task timed out after \(seconds) seconds")
        } else {
            let failure = sandboxFailure ?? ("Runtime.Unknown", "RequestId: \(id) Error: the sandbox failed")
            status = .error
            errorType = failure.type
            reportStatus = "error"
            payload = Self.errorDocument(failure.type, failure.message)
        }
        current = nil
        if !finished {
            _ = teardown(reason: "timeout")
        } else if sandboxFailure != nil {
            _ = teardown(reason: "failure")
        }
        drainLogs()
        platformLog("END RequestId: \(id)")
        if phase == .ready && configuration.freezeBetweenInvocations { tracker?.setFrozen(true) }
        let report = InvocationReport(requestId: id, durationMs: duration, billedDurationMs: Self.billed(duration),
                                      memorySizeMB: configuration.memoryMB, maxMemoryUsedMB: memory, initDurationMs: initDuration,
                                      status: reportStatus, errorType: reportStatus == "error" ? errorType : nil)
        return InvocationResult(requestId: id, status: status, payload: payload, errorType: errorType, report: report,
                                logs: takeLogs(), processTreePeakRSSBytes: treeRSS)
    }

    /// Ends the sandbox: the runtime is killed, extensions subscribed to SHUTDOWN get it with
    /// `reason` and 2000 ms, then every remaining process is killed and the cgroups removed.
    func teardown(reason: String) -> (names: [String], leaked: Set<pid_t>) {
        guard tracker != nil || runtimeProcess != nil || !extensionProcesses.isEmpty else {
            phase = .cold
            return ([], [])
        }
        tracker?.setFrozen(false)
        shuttingDown = true
        shutdownReason = reason
        shutdownDeadlineMs = Self.epochMs() + 2000
        if let runtime = runtimeProcess {
            // The runtime's whole tree at once: stopped first, so that no part of it (a runtime under a
            // wrapper that gave it its own process group) sees another part die and logs about it.
            // Stopped processes cannot fork, so a few rounds catch children started meanwhile.
            var tree: Set<pid_t> = [runtime.pid]
            for _ in 0..<4 {
                for pid in tree { kill(pid, SIGSTOP) }
                let grown = ProcessTracker.descendants(of: [runtime.pid]).union(tree)
                if grown == tree { break }
                tree = grown
            }
            for pid in tree { kill(pid, SIGKILL) }
            kill(-runtime.pid, SIGKILL)
            checkExit(runtime.pid, block: true)
        }
        var notified: [String] = []
        // Extensions whose file has exited get nothing; others (including any registered under a
        // name that is not a file in /opt/extensions) get SHUTDOWN.
        let exited = extensionFiles.subtracting(extensionProcesses.keys)
        for (id, ext) in extensions where ext.events.contains("SHUTDOWN") && !exited.contains(ext.name) {
            extensions[id]?.shutdownSent = true
            // An extension busy with INVOKE gets SHUTDOWN when it next asks.
            sendEvent(["eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": shutdownDeadlineMs], to: id)
            notified.append(ext.name)
        }
        if !notified.isEmpty {
            pump(deadline: Self.now() + 2_000_000_000) {
                self.extensions.values.allSatisfy { ext in
                    !ext.events.contains("SHUTDOWN") || ext.shutdownDone || exited.contains(ext.name)
                        || (self.extensionFiles.contains(ext.name) && self.extensionProcesses[ext.name] == nil)
                }
            }
        }
        drainLogs()
        let leaked = tracker?.killAll { pid in self.checkExit(pid, block: true) } ?? []
        for process in trackedProcesses() { checkExit(process.pid, block: true) }
        tracker?.remove()
        tracker = nil
        server.closeAllConnections()
        runtimeProcess = nil
        extensionProcesses = [:]
        extensionFiles = []
        extensions = [:]
        runtimeWaiting = nil
        shuttingDown = false
        phase = .cold
        return (notified.sorted(), leaked)
    }

    func peakMemoryMB() -> Int {
        let bytes = tracker?.peakMemoryBytes() ?? 0
        return Int((bytes + 1024 * 1024 - 1) / (1024 * 1024))
    }

    static func billed(_ ms: Double) -> Int { max(1, Int(ms.rounded(.up))) }

    static func message(in data: Data) -> String? {
        ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["errorMessage"] as? String
    }

    static func traceID() -> String {
        let time = String(UInt32(Date().timeIntervalSince1970), radix: 16)
        func hex(_ n: Int) -> String { (0..<n).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined() }
        return "Root=1-\(time)-\(hex(24));Parent=\(hex(16));Sampled=0"
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}
