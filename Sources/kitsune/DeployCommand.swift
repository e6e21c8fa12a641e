import ArgumentParser
import Foundation
import KitsuneAWS

/// `kitsune deploy`: attach (or remove) the Kitsune layer and exec wrapper on selected functions.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Attach or remove the Kitsune layer and AWS_LAMBDA_EXEC_WRAPPER on tag-selected Lambda functions.",
        discussion: """
        Each selected function gets one UpdateFunctionConfiguration call (fully old or fully new), keeping \
        its other layers and environment variables. provided.* runtimes are skipped (use `kitsune protect`). \
        Exit status: 0 success, 1 some function failed, 2 the run could not start.
        """)

    @Option(name: .customLong("layer-arn"), help: "Kitsune layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION).")
    var layerARN: String

    @Option(name: .customLong("select"), help: "Selection, tag:KEY=VALUE (repeat: all must match).")
    var select: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Show what would change; change nothing.")
    var dryRun = false

    @Flag(name: .customLong("remove"), help: "Remove the Kitsune layer and wrapper instead of attaching them.")
    var remove = false

    @OptionGroup var aws: AWSOptions

    @Option(help: "Output format: text or json.")
    var format: String = "text"

    @Option(help: "Functions processed concurrently (1-32).")
    var concurrency: Int = 4

    func run() async throws {
        do {
            guard format == "text" || format == "json" else {
                throw AWSError.invalidInput("--format '\(format)': expected text or json")
            }
            guard (1...32).contains(concurrency) else { throw AWSError.invalidInput("--concurrency must be 1…32") }
            let layer = try LayerARN(layerARN)
            let selectors = try select.map { try FunctionSelector(parsing: $0) }
            let client = try aws.client(defaultRegion: layer.region)
            let deployer = try Deployer(client: client, options: DeployOptions(
                layer: layer, selectors: selectors, mode: remove ? .remove : .attach, dryRun: dryRun,
                concurrency: concurrency))
            let interactive = isatty(2) == 1
            let report = try await deployer.run(progress: { done, total in
                guard interactive, done == total || done % 25 == 0 else { return }
                FileHandle.standardError.write(Data("\rkitsune deploy: \(done)/\(total) functions checked".utf8)
                                               + (done == total ? Data("\n".utf8) : Data()))
            })
            if format == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.renderText())
            }
            if report.hasFailures { throw ExitCode(1) }
        } catch let error as AWSError {
            FileHandle.standardError.write(Data("kitsune deploy: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
