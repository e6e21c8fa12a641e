import ArgumentParser
import Foundation
import KitsuneLambda

/// `kitsune demo`: the attack story on the local Lambda emulator (library: KitsuneLambda/Demo).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Attack a deliberately vulnerable Lambda function protected by the Kitsune layer, in the local emulator.",
        discussion: """
        Builds the Kitsune layer (the kitsune-enforcer beside kitsune, the layer's default policy plus an allowlist) and \
        runs a vulnerable Python function under AWS's awslambdaric: a legitimate request, then command injection, \
        drop-and-run, a miner name and a read of decoy credentials, once per mode (one cold start each).
        Exit status: 0 as expected (enforce blocked every attack, the legitimate request worked), 1 when an attack \
        succeeded in enforce mode or the legitimate request failed, 2 when the demo cannot run (needs root, \
        kitsune-enforcer and awslambdaric: run scripts/setup).
        """)

    @Option(help: "enforce, audit or both (enforce, then audit).") var mode: String = "both"
    @Flag(help: "One JSON object per step (and a final summary object) instead of text.") var json = false
    @Flag(help: "Keep the working directory (function, layers, policies) and print its path.") var keep = false
    @Flag(help: "The container story instead: a vulnerable web app in a container run by runc (see docs/containers.md).") var container = false

    func validate() throws {
        do { _ = try DemoMode.selection(mode) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        if container { return try runContainerDemo() }
        let options = DemoOptions(modes: try DemoMode.selection(mode), keepWorkspace: keep)
        let renderer = DemoRenderer()
        let result: DemoRun
        do {
            let runner = try DemoRunner(options: options)
            let host = try runner.checkHost()
            let signals = Self.killOnSignal(runner.interrupt)
            defer { signals.forEach { $0.cancel() } }
            if !json { Self.emit(renderer.header(story: runner.story, host: host, modes: options.modes)) }
            result = try runner.run { step in Self.emit(json ? renderer.json(step) + "\n" : renderer.render(step) + "\n") }
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        Self.emit(json ? renderer.json(result) + "\n" : renderer.summary(result))
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }

    /// Writes to stdout at once (unbuffered: the story appears while it runs).
    static func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Sandbox processes run in their own sessions: on Ctrl-C / SIGTERM / SIGHUP kill them (and remove
    /// the working directory) before exiting 128+signal.
    static func killOnSignal(_ interrupt: DemoInterrupt) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { (number: Int32) -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                interrupt.fire()
                FileHandle.standardError.write(Data("kitsune demo: interrupted, sandbox processes killed\n".utf8))
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }
}
