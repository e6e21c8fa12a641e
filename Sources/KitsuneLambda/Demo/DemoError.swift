import Foundation

/// Why the demo could not run at all (the `kitsune demo` exit code 2). An attack that succeeds is not
/// an error: it is a result (`DemoRun.exitCode` 1).
public enum DemoError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Not running as root (the emulator's sandbox needs a private mount namespace).
    case notRoot
    /// No `kitsune-enforcer` where it was looked for (`nil`: none found next to `kitsune`).
    case enforcerMissing(String?)
    /// No Python interpreter for any of the story's runtimes.
    case pythonMissing([String])
    /// The interpreter cannot import AWS's runtime interface client.
    case awslambdaricMissing(interpreter: String)
    /// A bad option value; the text names it.
    case invalidOption(String)
    /// Preparing the function, the layer or the policy failed; the text says what.
    case setup(String)
    /// The emulator refused to start; the text is its message.
    case emulator(String)

    /// One line naming what is missing and how to fix it.
    public var description: String {
        switch self {
        case .notRoot:
            return "kitsune demo needs root: the Lambda emulator runs the function in a private mount namespace as uid 65534 (run it as root, e.g. `sudo scripts/demo`)"
        case .enforcerMissing(let path?):
            return "kitsune-enforcer not found at \(path) (build it with `swift build -c release`, or run scripts/demo)"
        case .enforcerMissing(nil):
            return "kitsune-enforcer not found beside kitsune (build it with `swift build -c release`, set KITSUNE_ENFORCER, or run scripts/demo)"
        case .pythonMissing(let runtimes):
            return "no Python interpreter for the demo runtimes (\(runtimes.joined(separator: ", "))): install python3 with scripts/setup"
        case .awslambdaricMissing(let interpreter):
            return "awslambdaric (AWS's Lambda runtime interface client) is not importable by \(interpreter): run scripts/setup (or `\(interpreter) -m pip install --break-system-packages awslambdaric`)"
        case .invalidOption(let text):
            return text
        case .setup(let text):
            return "kitsune demo: \(text)"
        case .emulator(let text):
            return "kitsune demo: the Lambda emulator cannot start: \(text)"
        }
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}
