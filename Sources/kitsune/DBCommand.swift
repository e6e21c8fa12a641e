import ArgumentParser
import Foundation
import KitsuneScanner

/// `kitsune db`: the local OSV advisory database.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the local OSV vulnerability database used by `kitsune scan`.",
        subcommands: [Import.self, Update.self, Info.self])

    struct Location: ParsableArguments {
        @Option(name: .customLong("db"), help: "Database directory (default: $KITSUNE_DB or ~/.cache/kitsune/osv).")
        var directory: String?
        var resolved: String { directory ?? AdvisoryStore.defaultLocation() }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import osv.dev all.zip archives, OSV JSON files or directories of them.")
        @OptionGroup var location: Location
        @Argument(help: "all.zip files, OSV JSON files, or directories.") var paths: [String]

        func run() async throws {
            let start = Date()
            let result: AdvisoryImport.Result
            do { result = try AdvisoryImport.load(paths: paths) } catch {
                FileHandle.standardError.write(Data("kitsune db import: \(error)\n".utf8))
                throw ExitCode(2)
            }
            let files = try AdvisoryStore.write(result, to: location.resolved)
            for p in result.problems.prefix(20) { FileHandle.standardError.write(Data("warning: \(p)\n".utf8)) }
            if result.problems.count > 20 {
                FileHandle.standardError.write(Data("warning: … \(result.problems.count - 20) more problems\n".utf8))
            }
            print("imported \(result.advisories) advisories (\(result.withdrawn.count) withdrawn ignored, "
                  + "\(result.skippedEcosystems) in other ecosystems, \(result.problems.count) unreadable) "
                  + "into \(files.joined(separator: ", ")) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download <BASE>/<ECOSYSTEM>/all.zip and import it.")
        @OptionGroup var location: Location
        @Option(help: "Base URL of the OSV export.") var url: String = AdvisoryDownloader.defaultBase
        @Option(name: .customLong("ecosystem"), help: "Ecosystem to fetch (repeatable; default: all supported).")
        var ecosystems: [String] = []

        func run() async throws {
            do {
                let reports = try await AdvisoryDownloader(base: url).update(ecosystems: ecosystems, into: location.resolved)
                for r in reports { print("\(r.ecosystem): \(r.advisories) advisories from \(r.url) (\(r.bytes) bytes)") }
            } catch {
                FileHandle.standardError.write(Data("kitsune db update: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what the database holds.")
        @OptionGroup var location: Location
        func run() async throws {
            do {
                let db = try AdvisoryDatabase.open(paths: [location.resolved])
                for s in db.summary() { print(s) }
            } catch {
                FileHandle.standardError.write(Data("kitsune db info: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
