import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Kills everything an emulator has started, callable from any thread — e.g. from a signal
/// source when the CLI gets Ctrl-C while an invocation is running (sandbox processes live in their
/// own sessions, so a terminal's SIGINT never reaches them). After `fire()` the emulator is unusable.
public final class EmulatorKillSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var cgroupDirectories: [String] = []
    private var groups: Set<pid_t> = []
    private var stagingRoot: String?

    init() {}

    func setCgroups(_ directories: [String]) { lock.lock(); cgroupDirectories = directories; lock.unlock() }
    func addGroup(_ pid: pid_t) { lock.lock(); groups.insert(pid); lock.unlock() }
    func clearGroups() { lock.lock(); groups.removeAll(); lock.unlock() }
    func setStagingRoot(_ path: String?) { lock.lock(); stagingRoot = path; lock.unlock() }

    /// Stops and kills every sandbox process, removes the cgroups and the staging directory.
    public func fire() {
        lock.lock()
        defer { lock.unlock() }
        var victims = ProcessTracker.descendants(of: groups)
        for dir in cgroupDirectories {
            _ = ProcessTracker.write("0", to: dir + "/cgroup.freeze")
            if let text = try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8) {
                victims.formUnion(text.split(separator: "\n").compactMap { pid_t($0) })
            }
            _ = ProcessTracker.write("1", to: dir + "/cgroup.kill")
        }
        for pid in victims { kill(pid, SIGSTOP) }
        for group in groups { kill(-group, SIGKILL) }
        for pid in victims { kill(pid, SIGKILL) }
        ProcessTracker.waitGone(victims, timeoutMs: 2000)
        for dir in cgroupDirectories { rmdir(dir) }
        if let stagingRoot { try? FileManager.default.removeItem(atPath: stagingRoot) }
        cgroupDirectories = []
        groups = []
    }
}
