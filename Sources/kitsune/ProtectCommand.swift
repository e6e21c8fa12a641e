import ArgumentParser
import Foundation
import KitsuneFindings
import KitsuneLambda
import KitsunePolicy

/// `kitsune protect function.zip -o protected.zip` — for provided.al2 / provided.al2023 functions.
struct ProtectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protect",
        abstract: "Rewrap a provided.* function's bootstrap so kitsune-enforcer starts it (adds the package manifest).")

    @Argument(help: "The function's deployment zip (with `bootstrap` at its root).")
    var zip: String

    @Option(name: .shortAndLong, help: "The protected zip to write.")
    var output: String

    @Option(help: "Policy to bake in (default: Kitsune's Lambda policy, enforce mode).")
    var policy: String?

    @OptionGroup var binaries: EnforcerOptions

    func run() throws {
        let architecture: LayerArchitecture
        do {
            architecture = try binaries.architecture ?? FunctionProtector.bootstrapArchitecture(zip: zip) ?? .x86_64
            let data = try FunctionProtector.protect(zip: zip, enforcer: try binaries.enforcer(for: architecture),
                                                     policy: policy.map { URL(fileURLWithPath: $0) }, architecture: architecture)
            try AtomicFile.write(data, to: output)
        } catch {
            throw inputError("\(error)")
        }
        FileHandle.standardError.write(Data("kitsune: protected \(architecture.rawValue) function written to \(output) (deploy it with Architectures=[\(architecture.rawValue)])\n".utf8))
    }
}
