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
            abstract: "Build the layer zip (publish it with `aws lambda publish-layer-version --zip-file fileb://FILE --compatible-architectures ARCH`).",
            discussion: "Functions on managed runtimes use it with AWS_LAMBDA_EXEC_WRAPPER=\(LayerBuilder.wrapperPath). One layer per architecture: its binaries are native code.")

        @Option(help: "Policy to bake into the layer (default: Kitsune's Lambda policy, enforce mode).")
        var policy: String?

        @Option(name: .shortAndLong, help: "The layer zip to write.")
        var output: String = "kitsune-layer.zip"

        @OptionGroup var binaries: EnforcerOptions

        func run() throws {
            let architecture = binaries.architecture ?? .x86_64
            do {
                let enforcer = try binaries.enforcer(for: architecture)
                let zip = try LayerBuilder.archive(enforcer: enforcer, policy: policy.map { URL(fileURLWithPath: $0) }, architecture: architecture)
                try AtomicFile.write(zip, to: output)
            } catch {
                throw inputError("\(error)")
            }
            FileHandle.standardError.write(Data("""
                kitsune: \(architecture.rawValue) layer written to \(output); publish it with --compatible-architectures \(architecture.rawValue) \
                and set AWS_LAMBDA_EXEC_WRAPPER=\(LayerBuilder.wrapperPath)

                """.utf8))
        }
    }
}

/// `--architecture` and `--enforcer`, shared by `kitsune layer build` and `kitsune protect`.
struct EnforcerOptions: ParsableArguments {
    @Option(help: "Lambda architecture of the functions: x86_64 or arm64 (layer build default: x86_64; protect default: the bootstrap's, else x86_64).")
    var architecture: LayerArchitecture?

    @Option(help: "The kitsune-enforcer to use; it must be built for --architecture (default: KITSUNE_ENFORCER, else the build beside kitsune: kitsune-enforcer, or aarch64/kitsune-enforcer from scripts/build-arm64). kitsune-ship is taken from beside it.")
    var enforcer: String?

    func enforcer(for architecture: LayerArchitecture) throws -> URL {
        try LayerBinaries.enforcer(for: architecture, explicit: enforcer)
    }
}

extension LayerArchitecture: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
