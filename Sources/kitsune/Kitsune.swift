import ArgumentParser
import Foundation

/// The `kitsune` command line. Each subcommand lives in its own file and only parses arguments
/// and calls the libraries.
@main
struct Kitsune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kitsune",
        abstract: "Runtime protection and assurance for serverless functions and containers.",
        version: versionText,
        subcommands: [
            // enforcer (issue 2)
            RunCommand.self, ManifestCommand.self, PolicyCommand.self,
            // scanner (issue 3)
            DBCommand.self, ScanCommand.self,
            // aws (issue 4)
            DeployCommand.self, HoneytokenCommand.self,
            PostureCommand.self,
            // lambda (issue 5)
            LocalCommand.self, LayerCommand.self, ProtectCommand.self, DemoCommand.self,
            // control plane (issue 10)
            ServerCommand.self, AgentCommand.self,
            // containers (issue 13)
            ImageCommand.self,
        ]
    )

    /// Usage errors exit 2 like every other bad input (ArgumentParser's default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
