import ArgumentParser

/// The `kitsune` command line. Each subcommand lives in its own file and only parses arguments
/// and calls the libraries.
@main
struct Kitsune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kitsune",
        abstract: "Runtime protection and assurance for serverless functions and containers.",
        subcommands: [
            // enforcer (issue 2)
            RunCommand.self, ManifestCommand.self, PolicyCommand.self,
            // scanner (issue 3)
            DBCommand.self, ScanCommand.self,
            // aws (issue 4)
            DeployCommand.self, HoneytokenCommand.self,
            PostureCommand.self,
            // lambda (issue 5)
            LocalCommand.self,
        ]
    )
}
