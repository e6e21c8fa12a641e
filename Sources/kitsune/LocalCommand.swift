import ArgumentParser
import Foundation
import KitsuneLambda

/// `kitsune local`: run Lambda functions locally.
struct LocalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Run a Lambda function locally in an emulated execution environment.",
        subcommands: [LocalInvokeCommand.self]
    )
}

/// `kitsune local invoke`: cold start once, invoke many times, print responses and REPORT lines.
struct LocalInvokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke a function in the local Lambda emulator (responses on stdout, logs and REPORT lines on stderr).",
        discussion: "Needs root: the runtime runs in a private mount namespace (code at /var/task, layers at /opt, read-only) as uid 65534."
    )

    @Option(help: "Function code: a directory or a .zip.") var code: String
    @Option(help: "Handler, e.g. app.handler.") var handler: String
    @Option(help: "Runtime id, e.g. python3.11, nodejs20.x, provided.al2023.") var runtime: String
    @Option(name: .customLong("layer"), help: "A layer directory or .zip (repeatable, in order).") var layers: [String] = []
    @Option(help: "A JSON event file (default: {}).") var event: String?
    @Option(help: "A file with one JSON event per line.") var events: String?
    @Option(name: .customLong("repeat"), help: "Invoke N times with the event.") var repeatCount: Int = 1
    @Option(help: "Timeout in seconds.") var timeout: Double = 3
    @Option(help: "Memory size in MB.") var memory: Int = 128
    @Option(name: .customLong("env"), help: "Environment variable K=V (repeatable).") var env: [String] = []
    @Option(help: "Function name.") var functionName: String = "kitsune-local"
    @Option(help: "Region.") var region: String = "us-east-1"
    @Option(help: "Runtime API port on 127.0.0.1 (default: a free port).") var port: UInt16?

    func validate() throws {
        if event != nil && events != nil { throw ValidationError("give either --event or --events, not both") }
        if events != nil && repeatCount != 1 { throw ValidationError("--repeat applies to --event, not to --events") }
        for pair in env where !pair.contains("=") || pair.hasPrefix("=") {
            throw ValidationError("--env '\(pair)' must be KEY=VALUE")
        }
    }

    func run() throws {
        var environment: [String: String] = [:]
        for pair in env {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        do {
            let payloads = try events.map { path throws(EmulatorError) in try EventSource.lines(path) }
                ?? EventSource.single(event, repeatCount: repeatCount)
            let config = EmulatorConfiguration(
                code: URL(fileURLWithPath: code), handler: handler, runtime: runtime,
                layers: layers.map { URL(fileURLWithPath: $0) }, timeoutSeconds: timeout, memoryMB: memory,
                environment: environment, functionName: functionName, region: region, port: port,
                logEchoDescriptor: FileHandle.standardError.fileDescriptor)
            let emulator = try LambdaEmulator(configuration: config)
            // Sandbox processes run in their own sessions: on Ctrl-C / SIGTERM kill them before exiting.
            let killSwitch = emulator.killSwitch
            let interrupted = InterruptFlag()
            let signalSources = [Int32]([SIGINT, SIGTERM, SIGHUP]).map { (number: Int32) -> DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    interrupted.set(number)      // before the kill: the main thread must not exit 0 first
                    killSwitch.fire()
                    FileHandle.standardError.write(Data("kitsune local invoke: interrupted, sandbox processes killed\n".utf8))
                    Foundation.exit(128 + number)
                }
                source.resume()
                return source
            }
            defer { signalSources.forEach { $0.cancel() } }
            for payload in payloads {
                let result = emulator.invoke(InvocationRequest(payload: payload))
                if let number = interrupted.signal {
                    killSwitch.fire()
                    Foundation.exit(128 + number)
                }
                FileHandle.standardOutput.write(result.payload + Data("\n".utf8))
                FileHandle.standardError.write(Data((result.report.line + "\n").utf8))
            }
            emulator.shutdown()
        } catch {
            throw LocalInvokeFailure(description: "\(error)")
        }
    }
}

/// An emulator error, printed as is (no usage text).
struct LocalInvokeFailure: Error, CustomStringConvertible {
    var description: String
}

/// The signal that interrupted `local invoke`, shared between the signal handler and the main loop.
final class InterruptFlag: @unchecked Sendable {
    // @unchecked: every access goes through the lock.
    private let lock = NSLock()
    private var number: Int32?

    func set(_ signal: Int32) { lock.lock(); number = signal; lock.unlock() }

    var signal: Int32? { lock.lock(); defer { lock.unlock() }; return number }
}
