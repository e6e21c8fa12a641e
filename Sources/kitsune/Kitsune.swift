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
            // (run, manifest, policy)
            // scanner (issue 3)
            // aws (issue 4)
            // lambda (issue 5)
        ]
    )
}
