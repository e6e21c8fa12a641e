import ArgumentParser
import Foundation
import KitsuneAWS

/// `kitsune honeytoken`: bait AWS keys and the detection of their use.
struct HoneytokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "honeytoken",
        abstract: "Create bait AWS access keys and detect their use in CloudTrail.",
        subcommands: [Create.self, Check.self, List.self, Delete.self])

    static func fail(_ error: any Error, _ command: String) -> ExitCode {
        FileHandle.standardError.write(Data("kitsune honeytoken \(command): \(error)\n".utf8))
        return ExitCode(2)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an IAM user with a deny-all policy and an access key, and record it locally.")

        @Argument(help: "Honeytoken (IAM user) name.")
        var name: String

        @Option(help: "Honeytoken store file (default ~/.config/kitsune/honeytokens.json).")
        var store: String?

        @Flag(name: .customLong("show-secret"), help: "Print the secret access key.")
        var showSecret = false

        @OptionGroup var aws: AWSOptions

        func run() async throws {
            do {
                let client = try aws.client(defaultRegion: "us-east-1")
                let store = HoneytokenStore(path: store ?? HoneytokenStore.defaultPath())
                let record = try await HoneytokenCreator(iam: client.iam, store: store).create(name)
                print("created honeytoken \(record.name): IAM user \(record.userARN) (deny-all policy), access key \(record.accessKeyID)")
                print("recorded in \(store.path)")
                if showSecret {
                    print("secret access key: \(record.secretAccessKey)")
                } else {
                    print("secret access key hidden (stored in \(store.path); --show-secret prints it)")
                }
            } catch {
                throw HoneytokenCommand.fail(error, "create")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the recorded honeytokens (never the secrets).")

        @Option(help: "Honeytoken store file (default ~/.config/kitsune/honeytokens.json).")
        var store: String?

        func run() async throws {
            do {
                let path = store ?? HoneytokenStore.defaultPath()
                let records = try HoneytokenStore(path: path).load()
                if records.isEmpty { print("no honeytokens recorded in \(path)") }
                for record in records {
                    print("\(record.name)\t\(record.accessKeyID)\t\(record.userARN)\tcreated \(record.createdAt)")
                }
            } catch {
                throw HoneytokenCommand.fail(error, "list")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a honeytoken's access keys, policy and IAM user, and forget it locally.")

        @Argument(help: "Honeytoken name.")
        var name: String

        @Option(help: "Honeytoken store file (default ~/.config/kitsune/honeytokens.json).")
        var store: String?

        @OptionGroup var aws: AWSOptions

        func run() async throws {
            do {
                let client = try aws.client(defaultRegion: "us-east-1")
                let store = HoneytokenStore(path: store ?? HoneytokenStore.defaultPath())
                try await HoneytokenCreator(iam: client.iam, store: store).delete(name)
                print("deleted honeytoken \(name) (access keys, policy and IAM user) and removed it from \(store.path)")
            } catch {
                throw HoneytokenCommand.fail(error, "delete")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Raise an alert for every use of a honeytoken key (exit 1 when any).",
            discussion: "Exit status: 0 no use found, 1 alerts, 2 the check could not run or was incomplete.")

        @Option(help: "CloudTrail log file or directory (*.json, *.json.gz).")
        var cloudtrail: String?

        @Flag(help: "Query CloudTrail LookupEvents (last 90 days, this region).")
        var lookup = false

        @Option(help: "Honeytoken store file (default ~/.config/kitsune/honeytokens.json).")
        var store: String?

        @Option(help: "Output format: text or json.")
        var format: String = "text"

        @OptionGroup var aws: AWSOptions

        func run() async throws {
            var alerts: [HoneytokenAlert] = []
            var problems: [String] = []
            do {
                guard cloudtrail != nil || lookup else {
                    throw AWSError.invalidInput("give --cloudtrail FILE|DIR and/or --lookup")
                }
                guard format == "text" || format == "json" else {
                    throw AWSError.invalidInput("--format '\(format)': expected text or json")
                }
                let storePath = store ?? HoneytokenStore.defaultPath()
                let tokens = try HoneytokenStore(path: storePath).load()
                guard !tokens.isEmpty else {
                    throw AWSError.invalidInput("no honeytokens recorded in \(storePath); create one with `kitsune honeytoken create NAME`")
                }
                let detector = HoneytokenDetector(tokens: tokens)
                if let cloudtrail {
                    let result = try detector.checkFiles(at: cloudtrail)
                    alerts += result.alerts
                    problems += result.problems
                    if result.files == 0 { problems.append("\(cloudtrail): no *.json or *.json.gz CloudTrail files found") }
                }
                if lookup {
                    let client = try aws.client()
                    alerts += try await detector.checkLookup(client.cloudTrail)
                }
            } catch {
                throw HoneytokenCommand.fail(error, "check")
            }
            if format == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                struct Output: Encodable { let alerts: [HoneytokenAlert]; let problems: [String] }
                print(String(decoding: (try? encoder.encode(Output(alerts: alerts, problems: problems))) ?? Data(), as: UTF8.self))
            } else {
                for alert in alerts {
                    print("ALERT honeytoken \(alert.honeytoken) (\(alert.accessKeyID)) used: \(alert.eventSource) \(alert.eventName) at \(alert.eventTime) from \(alert.sourceIPAddress) in \(alert.region), user agent \"\(alert.userAgent)\"" + (alert.errorCode.map { ", denied (\($0))" } ?? "") + " [\(alert.origin)]")
                }
                for problem in problems { FileHandle.standardError.write(Data("kitsune honeytoken check: \(problem)\n".utf8)) }
                print(alerts.isEmpty ? "no honeytoken use found" + (problems.isEmpty ? "" : " (INCOMPLETE: \(problems.count) problem(s))")
                                     : "\(alerts.count) honeytoken use(s) found")
            }
            if !alerts.isEmpty { throw ExitCode(1) }
            if !problems.isEmpty { throw ExitCode(2) }
        }
    }
}
