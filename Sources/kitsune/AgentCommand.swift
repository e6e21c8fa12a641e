import ArgumentParser
import Foundation
import KitsuneServer

/// `kitsune agent`: the reconciler inside the customer's account (issue 11's in-account mode). It uses
/// the account's own credentials (a Lambda execution role, environment credentials; honours
/// `AWS_ENDPOINT_URL`), pulls the desired state from the server with an agent token and reports back.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Reconcile this AWS account's functions from inside it, with desired state from a Kitsune server.",
        discussion: """
            The server holds no AWS credentials for an account connected with "mode": "agent"; this \
            agent does its work with the account's own. --once runs one pass and exits 1 if it failed; \
            --lambda serves a Lambda custom runtime (AWS_LAMBDA_RUNTIME_API), one pass per invocation; \
            otherwise a pass runs every --interval.
            """)

    @Option(help: "The Kitsune server's URL. Default: KITSUNE_SERVER.")
    var server: String?

    @Option(help: "The account's agent token (from POST /api/v1/accounts with mode agent). Default: KITSUNE_TOKEN (prefer it: a command line is visible to other users).")
    var token: String?

    @Flag(help: "Run one pass and exit (1 when it failed).")
    var once = false

    @Option(help: "Time between passes (45s, 5m, 1h).")
    var interval = "60s"

    @Option(help: "Only these of the account's regions, comma-separated (default: KITSUNE_AGENT_REGIONS, else all the server lists).")
    var regions: String?

    @Flag(help: "Run as a Lambda custom runtime: one pass per invocation (needs AWS_LAMBDA_RUNTIME_API).")
    var lambda = false

    func validate() throws {
        let env = ProcessInfo.processInfo.environment
        guard let server = server ?? env["KITSUNE_SERVER"], let url = URL(string: server), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("--server: give the Kitsune server's http(s) URL (or set KITSUNE_SERVER)")
        }
        guard let token = token ?? env["KITSUNE_TOKEN"], !token.isEmpty else { throw ValidationError("--token: give the account's agent token (or set KITSUNE_TOKEN)") }
        guard TokenSecret(parsing: Substring(token)) != nil else { throw ValidationError("--token: not a Kitsune token (kit_<id>_<secret>)") }
        _ = try ServerCommand.Serve.duration(interval, option: "--interval")
        if let regions = regions ?? env["KITSUNE_AGENT_REGIONS"].flatMap({ $0.isEmpty ? nil : $0 }) {
            for r in regions.split(separator: ",", omittingEmptySubsequences: false)
            where r.range(of: #"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"#, options: .regularExpression) == nil {
                throw ValidationError("--regions: '\(r.prefix(40))' is not an AWS region name")
            }
        }
        if once && lambda { throw ValidationError("--once and --lambda exclude each other (a Lambda runtime serves invocations)") }
        if lambda, (env["AWS_LAMBDA_RUNTIME_API"] ?? "").isEmpty { throw ValidationError("--lambda: AWS_LAMBDA_RUNTIME_API is not set (not running as a Lambda function)") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let client = AgentClient(server: URL(string: server ?? env["KITSUNE_SERVER"]!)!, token: token ?? env["KITSUNE_TOKEN"]!)
        let chosen = regions ?? env["KITSUNE_AGENT_REGIONS"].flatMap { $0.isEmpty ? nil : $0 }
        let agent = InAccountAgent(client: client, regions: chosen.map { $0.split(separator: ",").map(String.init) })
        if lambda {
            try await AgentLambdaRuntime(api: env["AWS_LAMBDA_RUNTIME_API"]!).serve { try await agent.runOnce() }
            return
        }
        let intervalMs = try ServerCommand.Serve.duration(interval, option: "--interval")
        while true {
            var failed = false
            do {
                let result = try await agent.runOnce()
                print(result.json)
                failed = result.failed
                if failed { FileHandle.standardError.write(Data("kitsune agent: the pass failed: \(result.report.failures.map { "\($0.region): \($0.error)" }.joined(separator: "; "))\n".utf8)) }
            } catch {
                FileHandle.standardError.write(Data("kitsune agent: \(error)\n".utf8))
                failed = true
            }
            if once { if failed { throw ExitCode(1) }; return }
            try await Task.sleep(for: .milliseconds(intervalMs))
        }
    }
}
