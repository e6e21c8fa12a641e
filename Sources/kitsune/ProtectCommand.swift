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

    func run() throws {
        guard let enforcer = EnforcerBinary.locate() else {
            throw inputError("kitsune-enforcer not found beside kitsune (build it with `swift build -c release`, or set KITSUNE_ENFORCER)")
        }
        do {
            let data = try FunctionProtector.protect(zip: zip, enforcer: URL(fileURLWithPath: enforcer),
                                                     policy: policy.map { URL(fileURLWithPath: $0) })
            try AtomicFile.write(data, to: output)
        } catch {
            throw inputError("\(error)")
        }
        FileHandle.standardError.write(Data("kitsune: protected function written to \(output)\n".utf8))
    }
}
