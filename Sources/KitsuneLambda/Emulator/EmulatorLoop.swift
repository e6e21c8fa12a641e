import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The single poll loop: HTTP connections, the log pipe and process exits.
extension LambdaEmulator {
    /// Serves requests until `done()` holds (true) or `deadline` (uptime ns) passes (false).
    @discardableResult
    func pump(deadline: UInt64, until done: () -> Bool) -> Bool {
        while true {
            if done() { return true }
            let now = Self.now()
            if now >= deadline { return false }
            let entries = server.pollEntries()
            var fds = entries.map(\.pfd)
            let logIndex = fds.count
            fds.append(pollfd(fd: logRead, events: Int16(POLLIN), revents: 0))
            let watched = trackedProcesses()
            let exitIndex = fds.count
            for process in watched { fds.append(pollfd(fd: process.exitFD, events: Int16(POLLIN), revents: 0)) }
            let needsPolling = watched.contains { $0.exitFD < 0 }
            var timeout = Int((deadline - now + 999_999) / 1_000_000)
            if needsPolling { timeout = min(timeout, 10) }
            let n = poll(&fds, nfds_t(fds.count), Int32(min(timeout, 60_000)))
            if n < 0 {
                if errno == EINTR { continue }
                sandboxFailure = sandboxFailure ?? ("Sandbox.Failure", "poll: \(errnoText(errno))")
                return done()
            }
            for (i, entry) in entries.enumerated() where fds[i].revents != 0 {
                for event in server.handle(id: entry.id, revents: fds[i].revents) { handle(event) }
            }
            if fds[logIndex].revents != 0 { drainLogs() }
            for (i, process) in watched.enumerated() where needsPolling || fds[exitIndex + i].revents != 0 {
                checkExit(process.pid, block: false)
            }
        }
    }

    /// The runtime and extension processes still alive.
    func trackedProcesses() -> [SpawnedProcess] {
        (runtimeProcess.map { [$0] } ?? []) + extensionProcesses.values
    }

    /// Reaps `pid` if it has exited (or waits for it when `block`), then records the exit.
    func checkExit(_ pid: pid_t, block: Bool) {
        var status: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &status, block ? 0 : WNOHANG) } while r < 0 && errno == EINTR
        guard r == pid || (r < 0 && errno == ECHILD) else { return }
        processExited(pid, description: r == pid ? Self.describe(status) : "exited")
    }

    /// Records that a sandbox process is gone.
    func processExited(_ pid: pid_t, description: String) {
        tracker?.forget(pid)
        if let runtime = runtimeProcess, runtime.pid == pid {
            if runtime.exitFD >= 0 { close(runtime.exitFD) }
            runtimeProcess = nil
            if !shuttingDown && sandboxFailure == nil {
                let prefix = current.map { "RequestId: \($0.id) " } ?? ""
                // Lambda names a runtime killed for exceeding the memory size Runtime.OutOfMemory.
                let type = description == "signal: killed" && (tracker?.oomKills() ?? 0) > 0 ? "Runtime.OutOfMemory" : "Runtime.ExitError"
                sandboxFailure = (type, "\(prefix)Error: Runtime exited with error: \(description)")
            }
            return
        }
        for (name, process) in extensionProcesses where process.pid == pid {
            if process.exitFD >= 0 { close(process.exitFD) }
            extensionProcesses[name] = nil
            if !shuttingDown && sandboxFailure == nil {
                sandboxFailure = ("Extension.Crash", "Extension \(name) exited with error: \(description)")
            }
        }
    }

    /// Reads everything the sandbox printed so far.
    func drainLogs() {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(logRead, $0.baseAddress, $0.count) }
            if n > 0 {
                logBuffer.append(contentsOf: chunk[0..<n])
                if let fd = configuration.logEchoDescriptor {
                    _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, n) }
                }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return
        }
    }

    /// Appends an emulator-generated log line (like Lambda's platform lines).
    func platformLog(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        logBuffer.append(contentsOf: bytes)
        if let fd = configuration.logEchoDescriptor { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
    }

    /// Returns and clears the collected logs.
    func takeLogs() -> String {
        defer { logBuffer.removeAll(keepingCapacity: true) }
        return String(decoding: logBuffer, as: UTF8.self)
    }

    /// Wait status as Lambda words it ("exit status 1", "signal: killed").
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exit status \((status >> 8) & 0xff)" }
        let names: [Int32: String] = [SIGKILL: "killed", SIGSEGV: "segmentation fault", SIGABRT: "aborted",
                                      SIGTERM: "terminated", SIGBUS: "bus error", SIGILL: "illegal instruction"]
        return "signal: \(names[signal] ?? "signal \(signal)")"
    }
}
