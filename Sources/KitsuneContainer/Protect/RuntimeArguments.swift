/// The parts of a runc command line the wrapper needs: the subcommand, its `--bundle`, the container
/// id. Global flags with values (`--root`, `--log`, `--log-format`, `--criu`, `--rootless`) are skipped
/// over; nothing is removed, so the command line goes to runc exactly as given.
public struct RuntimeArguments: Equatable, Sendable {
    public var command: String?
    public var bundle: String?
    public var containerID: String?
    /// Kitsune's own global flags (`--kitsune-cache DIR`, `--kitsune-mode M`, `--kitsune-policy FILE`,
    /// `--kitsune-runc PATH`; podman passes them with `--runtime-flag kitsune-cache=DIR`), by name
    /// without the dashes. They are removed from `passthrough`.
    public var kitsuneFlags: [String: String] = [:]
    /// The command line for runc: everything but Kitsune's own flags, in order.
    public var passthrough: [String] = []

    static let globalValueFlags: Set<String> = ["--root", "--log", "--log-format", "--criu", "--rootless"]
    static let commandValueFlags: Set<String> = ["--bundle", "-b", "--console-socket", "--pid-file", "--preserve-fds", "--pidfd-socket"]


    public init(_ args: [String]) {
        var i = 0
        while i < args.count {
            let a = args[i]
            if command == nil && a.hasPrefix("--kitsune-") {
                if let eq = a.firstIndex(of: "=") {
                    kitsuneFlags[String(a[a.index(a.startIndex, offsetBy: 2)..<eq])] = String(a[a.index(after: eq)...])
                    i += 1
                } else {
                    kitsuneFlags[String(a.dropFirst(2))] = i + 1 < args.count ? args[i + 1] : ""
                    i += 2
                }
                continue
            }
            passthrough.append(a)
            if command == nil {
                if Self.globalValueFlags.contains(a) {
                    if i + 1 < args.count { passthrough.append(args[i + 1]) }
                    i += 2
                    continue
                }
                if a.hasPrefix("-") { i += 1; continue }
                command = a
                i += 1
                continue
            }
            if a.hasPrefix("--bundle=") { bundle = String(a.dropFirst(9)); i += 1; continue }
            if Self.commandValueFlags.contains(a) {
                if i + 1 < args.count { passthrough.append(args[i + 1]) }
                if a == "--bundle" || a == "-b" { bundle = i + 1 < args.count ? args[i + 1] : nil }
                i += 2
                continue
            }
            if a.hasPrefix("-") { i += 1; continue }
            if containerID == nil { containerID = a }
            i += 1
        }
    }
}
