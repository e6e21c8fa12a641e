/// The parts of a runc command line the wrapper needs: the subcommand, its `--bundle`, the container
/// id. Global flags with values (`--root`, `--log`, `--log-format`, `--criu`, `--rootless`) are skipped
/// over; nothing is removed, so the command line goes to runc exactly as given.
public struct RuntimeArguments: Equatable, Sendable {
    public var command: String?
    public var bundle: String?
    public var containerID: String?

    static let globalValueFlags: Set<String> = ["--root", "--log", "--log-format", "--criu", "--rootless"]
    static let commandValueFlags: Set<String> = ["--bundle", "-b", "--console-socket", "--pid-file", "--preserve-fds", "--pidfd-socket"]

    public init(command: String?, bundle: String?, containerID: String?) {
        self.command = command; self.bundle = bundle; self.containerID = containerID
    }

    public init(_ args: [String]) {
        var i = 0
        while i < args.count {
            let a = args[i]
            if command == nil {
                if Self.globalValueFlags.contains(a) { i += 2; continue }
                if a.hasPrefix("-") { i += 1; continue }
                command = a
                i += 1
                continue
            }
            if a == "--bundle" || a == "-b" { bundle = i + 1 < args.count ? args[i + 1] : nil; i += 2; continue }
            if a.hasPrefix("--bundle=") { bundle = String(a.dropFirst(9)); i += 1; continue }
            if Self.commandValueFlags.contains(a) { i += 2; continue }
            if a.hasPrefix("-") { i += 1; continue }
            if containerID == nil { containerID = a }
            i += 1
        }
    }
}
