import Foundation
import Synchronization

/// Removes the fixture directories a test process shares between its tests (the enforcer harness's
/// packaged task, the shipper's certificates) when the process exits: no single test's teardown may
/// remove them, and without this every run left them in the temporary directory. At exit, not at
/// the end of the test bundle: `swift test --filter` also starts the tests' process to list them,
/// and that one sets the fixtures up without ever running a bundle.
final class FixtureCleanup: Sendable {
    private let directories = Mutex<[URL]>([])

    private static let shared: FixtureCleanup = {
        atexit { FixtureCleanup.shared.removeAll() }
        return FixtureCleanup()
    }()

    /// Removes `directory` when the process exits.
    static func removeAtEnd(_ directory: URL) {
        shared.directories.withLock { $0.append(directory) }
    }

    private func removeAll() {
        for directory in directories.withLock({ $0 }) { try? FileManager.default.removeItem(at: directory) }
    }
}
