import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors that stop the emulator from starting or running at all. (A function that fails is not an
/// emulator error: it yields an `InvocationResult` with an error status, like Lambda.)
public enum EmulatorError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A configuration value is wrong; the text names it.
    case invalidConfiguration(String)
    /// The runtime id is not in `runtimes.json`.
    case unsupportedRuntime(String, supported: [String])
    /// The runtime is known but cannot start on this host (interpreter or bootstrap missing).
    case runtimeUnavailable(String)
    /// The code or a layer could not be read or extracted.
    case badPackage(path: String, reason: String)
    /// The Runtime API port could not be bound.
    case portUnavailable(UInt16, String)
    /// The sandbox (mount namespace, cgroup, user switch) could not be set up.
    case sandboxUnavailable(String)
    /// An event could not be read.
    case badEvent(String)
    /// A system call failed in the emulator itself.
    case system(String)

    /// A message naming the input and what is wrong with it.
    public var description: String {
        switch self {
        case .invalidConfiguration(let text): return "invalid configuration: \(text)"
        case .unsupportedRuntime(let id, let supported):
            return "runtime '\(id)' is not supported; supported runtimes: \(supported.joined(separator: ", "))"
        case .runtimeUnavailable(let text): return "runtime not available: \(text)"
        case .badPackage(let path, let reason): return "cannot use package \(path): \(reason)"
        case .portUnavailable(let port, let reason):
            return "cannot listen on 127.0.0.1:\(port) for the Runtime API: \(reason) (omit --port to pick a free port)"
        case .sandboxUnavailable(let text): return "cannot create the Lambda sandbox: \(text)"
        case .badEvent(let text): return "bad event: \(text)"
        case .system(let text): return "emulator error: \(text)"
        }
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}

/// `strerror` as a Swift string.
func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// A pipe with `FD_CLOEXEC` on both ends (and `O_NONBLOCK` on the read end when asked).
func makePipe(nonBlockingRead: Bool = false) -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    if nonBlockingRead { _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) }
    return (fds[0], fds[1])
}
