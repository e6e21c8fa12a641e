import ArgumentParser
import Foundation
import KitsuneServer
import Logging

/// `kitsune server`: the control plane enforcers report to.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the control plane: events from every enforcer, the fleet, tokens (SQLite by default, PostgreSQL at scale).",
        subcommands: [Serve.self, Token.self],
        defaultSubcommand: Serve.self)

    /// Where the data lives.
    struct StoreOptions: ParsableArguments {
        @Option(help: "SQLite data directory (used unless --database is given).")
        var data = "./kitsune-data"

        @Option(help: ArgumentHelp("PostgreSQL URL postgres://USER[:PASSWORD]@HOST[:PORT]/DB (also $KITSUNE_DATABASE_URL, which keeps a password off the command line).", valueName: "url"))
        var database: String?

        func open() async throws -> ServerStore {
            do {
                return try await ServerStore.open(data: data, databaseURL: database ?? ProcessInfo.processInfo.environment["KITSUNE_DATABASE_URL"])
            } catch {
                throw ValidationError("\(database != nil ? "--database" : "--data \(data)"): \(error)")
            }
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the API (the default subcommand).")

        @Option(help: "Address to listen on, HOST:PORT.")
        var listen = "127.0.0.1:8443"

        @OptionGroup var store: StoreOptions

        @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS.")
        var tlsCert: String?

        @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
        var tlsKey: String?

        @Option(name: .customLong("public-url"), help: "How enforcers and browsers reach this server (https://kitsune.example.com).")
        var publicURL: String?

        @Option(help: "Keep events this long (30d, 12h, 90m).")
        var retention = "30d"

        @Option(name: .customLong("stale-after"), help: "An enforcer silent this long is stale.")
        var staleAfter = "6h"

        @Option(name: .customLong("alert-throttle"), help: "Events of one function and reason within this window make one alert (5m, 1h).")
        var alertThrottle = "5m"

        @Option(name: .customLong("rate-limit"), help: "Requests a second per token (0: unlimited); bursts of twice that.")
        var rateLimit = 100.0

        @Option(name: .customLong("reconcile-interval"), help: "How often functions are made to match their policies (a pass also follows every policy or account change).")
        var reconcileInterval = "60s"

        @Option(name: .customLong("search-index-step"), help: "SQLite: events each step of the free-text indexer adds behind ingest (0: no indexing, q scans).")
        var searchIndexStep = 200

        @Flag(name: .customLong("insecure-http"), help: "Allow plain HTTP on an address other than loopback (behind a TLS proxy).")
        var insecureHTTP = false

        @Option(name: .customLong("log-level"), help: ArgumentHelp("What the log shows: trace, debug, info, notice, warning, error, critical (also $KITSUNE_LOG_LEVEL).", valueName: "level"))
        var logLevel: String?

        func run() async throws {
            let levelText = logLevel ?? ProcessInfo.processInfo.environment["KITSUNE_LOG_LEVEL"] ?? "info"
            guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
                throw ValidationError("--log-level \(levelText): not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            var configuration = ServerConfiguration()
            (configuration.host, configuration.port) = try Self.address(listen)
            configuration.tlsCertificate = tlsCert
            configuration.tlsKey = tlsKey
            configuration.publicURL = publicURL
            configuration.insecureHTTP = insecureHTTP
            configuration.retentionMs = try Self.duration(retention, option: "--retention")
            configuration.staleAfterMs = try Self.duration(staleAfter, option: "--stale-after")
            configuration.reconcileIntervalMs = try Self.duration(reconcileInterval, option: "--reconcile-interval")
            configuration.alerts.throttleWindowMs = try Self.duration(alertThrottle, option: "--alert-throttle")
            guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 or more") }
            configuration.rateLimit = rateLimit
            configuration.rateBurst = max(1, rateLimit * 2)
            guard (0...100_000).contains(searchIndexStep) else { throw ValidationError("--search-index-step \(searchIndexStep): must be 0 to 100000") }
            configuration.searchIndexStep = searchIndexStep
            do { try configuration.validate() } catch { throw ValidationError(error.description) }
            let store = try await store.open()
            if try await !store.hasAPITokens() {
                FileHandle.standardError.write(Data("kitsune server: no API token yet; create one with `kitsune server token create --role admin` (same --data/--database)\n".utf8))
            }
            let plane = ControlPlane(configuration: configuration, store: store)
            let scheme = tlsCert == nil ? "http" : "https", host = configuration.host
            let app = try plane.application { port in
                FileHandle.standardError.write(Data("kitsune server: listening on \(scheme)://\(host):\(port) (\(store.database.dialect.rawValue))\n".utf8))
            }
            try await app.runService()
            await store.database.close()
        }

        /// `HOST:PORT`, `[IPv6]:PORT`.
        static func address(_ text: String) throws -> (String, Int) {
            var host = Substring(text), port = Substring("")
            if text.hasPrefix("["), let end = text.firstIndex(of: "]") {
                host = text[text.index(after: text.startIndex)..<end]
                port = text[end...].dropFirst().drop(while: { $0 == ":" })
            } else if let colon = text.lastIndex(of: ":") {
                host = text[..<colon]
                port = text[text.index(after: colon)...]
            }
            guard !host.isEmpty, let p = Int(port), (0...65535).contains(p) else {
                throw ValidationError("--listen \(text): expected HOST:PORT, such as 127.0.0.1:8443")
            }
            return (String(host), p)
        }

        /// `30d`, `12h`, `90m`, `45s` in milliseconds.
        static func duration(_ text: String, option: String) throws -> Int64 {
            let scales: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
            guard let unit = text.last, let scale = scales[unit], let n = Int64(text.dropLast()), n > 0, n < 100_000 else {
                throw ValidationError("\(option) \(text): expected a duration such as 30d, 12h, 90m or 45s")
            }
            return n * scale
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token", abstract: "API tokens (with the server stopped or running).", subcommands: [Create.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an API token and print it once.")

            @Option(help: "admin (manages tokens), editor (groups, policies) or viewer (reads).")
            var role: String

            @Option(help: "A name to recognise the token by.")
            var name: String?

            @OptionGroup var store: StoreOptions

            func run() async throws {
                guard let role = Role(rawValue: role), role != .ingest else {
                    throw ValidationError("--role \(role): must be admin, editor or viewer")
                }
                let store = try await store.open()
                let token = try await store.createAPIToken(role: role, name: name ?? role.rawValue, actor: "kitsune server token create (uid \(getuid()))")
                await store.database.close()
                print(token.text)
                FileHandle.standardError.write(Data("kitsune: \(role.rawValue) token \(token.id) created; it is shown only this once\n".utf8))
            }
        }
    }
}
