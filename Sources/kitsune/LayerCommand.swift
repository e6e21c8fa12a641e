import ArgumentParser
import Foundation
import KitsuneFindings
import KitsuneLambda
import KitsunePolicy

/// `kitsune layer build` — the Lambda layer (static enforcer, exec wrapper, baked policy).
struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer",
        abstract: "The Kitsune Lambda layer.",
        subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the layer zip (publish it with `aws lambda publish-layer-version --zip-file fileb://FILE`).",
            discussion: "Functions on managed runtimes use it with AWS_LAMBDA_EXEC_WRAPPER=\(LayerBuilder.wrapperPath).")

        @Option(help: "Policy to bake into the layer (default: Kitsune's Lambda policy, enforce mode).")
        var policy: String?

        @Option(name: .shortAndLong, help: "The layer zip to write.")
        var output: String = "kitsune-layer.zip"

        func run() throws {
            guard let enforcer = EnforcerBinary.locate() else {
                throw inputError("kitsune-enforcer not found beside kitsune (build it with `swift build -c release`, or set KITSUNE_ENFORCER)")
            }
            do {
                let zip = try LayerBuilder.archive(enforcer: URL(fileURLWithPath: enforcer), policy: policy.map { URL(fileURLWithPath: $0) })
                try AtomicFile.write(zip, to: output)
            } catch {
                throw inputError("\(error)")
            }
            FileHandle.standardError.write(Data("kitsune: layer written to \(output); set AWS_LAMBDA_EXEC_WRAPPER=\(LayerBuilder.wrapperPath)\n".utf8))
        }
    }
}
