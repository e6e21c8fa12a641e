import ArgumentParser
import Foundation
import KitsuneFindings
import KitsunePolicy

/// `kitsune run …` — the enforcer under the kitsune name: same options, same behaviour.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command under kitsune-enforcer (alias; same options: see kitsune-enforcer --help).")

    @Argument(parsing: .captureForPassthrough, help: "[ENFORCER OPTIONS] -- COMMAND [ARGS...]")
    var arguments: [String] = []

    func run() throws {
        try execEnforcer(arguments)
    }
}

/// `kitsune manifest DIR -o FILE` — the drift inventory the enforcer reads with --manifest.
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Inventory the executables of a package directory (path, sha256, size, mode).")

    @Argument(help: "The package directory.")
    var directory: String

    @Option(name: .shortAndLong, help: "Where to write the manifest JSON ('-' for standard output).")
    var output: String = "-"

    @Option(help: "Where the package lives at run time (default: DIRECTORY), e.g. /var/task.")
    var root: String?

    func run() throws {
        let manifest: Manifest
        do { manifest = try ManifestBuilder.build(directory: directory, root: root) } catch {
            throw inputError("\(error)")
        }
        let data = manifest.jsonData()
        if output == "-" { FileHandle.standardOutput.write(data); return }
        do { try AtomicFile.write(data, to: output) } catch { throw inputError("cannot write \(error)") }
        FileHandle.standardError.write(Data("kitsune: \(manifest.files.count) executable files inventoried in \(output)\n".utf8))
    }
}

/// `kitsune policy check FILE` — validate a policy with the enforcer's own parser.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Policy files, and the control plane's runtime policies.",
        subcommands: [Check.self, Apply.self, Export.self, Suggest.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a policy file and print the effective policy (defaults + file) as JSON.")

        @Argument(help: "The policy YAML file.")
        var file: String

        func run() throws {
            try execEnforcer(["--policy", file, "--check"])
        }
    }
}

/// Replace this process with the enforcer (exit status, signals and stdio stay the enforcer's).
func execEnforcer(_ arguments: [String]) throws -> Never {
    guard let enforcer = EnforcerBinary.locate() else {
        throw inputError("kitsune-enforcer not found beside kitsune (build it with `swift build -c release`, or set KITSUNE_ENFORCER)")
    }
    var argv = ([enforcer] + arguments).map { strdup($0) }
    argv.append(nil)
    execv(enforcer, &argv)
    throw inputError("cannot execute \(enforcer): \(String(cString: strerror(errno)))")
}

/// Print `kitsune: MESSAGE` on standard error and exit 2 (usage or input error), the house convention.
func inputError(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("kitsune: \(message)\n".utf8))
    return ExitCode(2)
}
