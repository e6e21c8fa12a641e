import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps track of every process of one sandbox so that it can be measured and killed as a whole.
///
/// Uses, when the host allows it, a cgroup v2 directory (`cgroup.kill`, `memory.peak`) and a
/// cgroup v1 memory directory (`memory.max_usage_in_bytes`, `memory.limit_in_bytes`); otherwise
/// process groups plus a walk of `/proc` for descendants, and the sum of `VmHWM` for memory.
final class ProcessTracker {
    private(set) var v2Directory: String?
    private(set) var v1MemoryDirectory: String?
    /// Process group leaders started by the emulator.
    private var leaders: Set<pid_t> = []
    private let fm = FileManager.default
    private let killSwitch: EmulatorKillSwitch?

    /// Creates the cgroups (best effort) named `name`, with a memory limit of `memoryLimitBytes`.
    /// `useCgroups: false` forces the process-group and /proc fallback (used by tests).
    init(name: String, memoryLimitBytes: UInt64, useCgroups: Bool = true, killSwitch: EmulatorKillSwitch? = nil) {
        self.killSwitch = killSwitch
        defer { killSwitch?.setCgroups([v2Directory, v1MemoryDirectory].compactMap { $0 }) }
        guard useCgroups else { return }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        var v2Mount: String?
        var v1MemoryMount: String?
        for line in mounts.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " "), right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            if right[0] == "cgroup2", v2Mount == nil { v2Mount = String(left[4]) }
            if right[0] == "cgroup", right[2].split(separator: ",").contains("memory") { v1MemoryMount = String(left[4]) }
        }
        var v2Path: String?, v1Path: String?
        for line in own.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty { v2Path = String(parts[2]) }
            if parts[1].split(separator: ",").contains("memory") { v1Path = String(parts[2]) }
        }
        if let mount = v2Mount, let path = v2Path {
            let dir = mount + (path == "/" ? "" : path) + "/" + name
            if mkdir(dir, 0o755) == 0 || errno == EEXIST, fm.fileExists(atPath: dir + "/cgroup.procs") {
                v2Directory = dir
                _ = Self.write(String(memoryLimitBytes), to: dir + "/memory.max")
            }
        }
        if let mount = v1MemoryMount, let path = v1Path {
            let dir = mount + (path == "/" ? "" : path) + "/" + name
            if mkdir(dir, 0o755) == 0 || errno == EEXIST, fm.fileExists(atPath: dir + "/memory.max_usage_in_bytes") {
                v1MemoryDirectory = dir
                _ = Self.write(String(memoryLimitBytes), to: dir + "/memory.limit_in_bytes")
            }
        }
    }

    /// How memory is measured (for documentation and the CLI).
    var memorySource: String {
        if let v2 = v2Directory, fm.fileExists(atPath: v2 + "/memory.peak") { return "cgroup v2 memory.peak" }
        if v1MemoryDirectory != nil { return "cgroup v1 memory.max_usage_in_bytes" }
        return "sum of VmHWM over the process tree"
    }

    /// Puts `pid` (not yet running its program) into the sandbox cgroups.
    func adopt(_ pid: pid_t) {
        leaders.insert(pid)
        killSwitch?.addGroup(pid)
        if let dir = v2Directory { _ = Self.write(String(pid), to: dir + "/cgroup.procs") }
        if let dir = v1MemoryDirectory { _ = Self.write(String(pid), to: dir + "/cgroup.procs") }
    }

    /// Forgets a leader that has been reaped.
    func forget(_ pid: pid_t) { leaders.remove(pid) }

    /// Every live process of the sandbox: the cgroup's members when there is a cgroup (nothing
    /// escapes it), else the leaders and their descendants found through /proc.
    func members() -> Set<pid_t> {
        let dirs = [v2Directory, v1MemoryDirectory].compactMap { $0 }
        guard !dirs.isEmpty else { return Self.descendants(of: leaders) }
        var out = Set<pid_t>()
        for dir in dirs {
            if let text = try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8) {
                out.formUnion(text.split(separator: "\n").compactMap { pid_t($0) })
            }
        }
        return out
    }

    /// Sum of the peak resident set size (`VmHWM`) of the live sandbox processes, in bytes.
    /// Unlike cgroup accounting it also counts file pages already in the host's page cache.
    func treeHighWaterMarkBytes() -> UInt64 {
        var total: UInt64 = 0
        for pid in members() {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { continue }
            let kb = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0
            total += kb * 1024
        }
        return total
    }

    /// Peak memory of the sandbox so far, in bytes.
    func peakMemoryBytes() -> UInt64 {
        if let dir = v2Directory, let peak = Self.readNumber(dir + "/memory.peak") { return peak }
        if let dir = v1MemoryDirectory, let peak = Self.readNumber(dir + "/memory.max_usage_in_bytes") { return peak }
        return treeHighWaterMarkBytes()
    }

    /// Whether the sandbox can be frozen (cgroup v2 freezer).
    var canFreeze: Bool { v2Directory.map { fm.fileExists(atPath: $0 + "/cgroup.freeze") } ?? false }

    /// Freezes or thaws every process of the sandbox (like Lambda between invocations).
    /// Thawing waits (bounded) until the kernel reports the cgroup running again.
    func setFrozen(_ frozen: Bool) {
        guard let dir = v2Directory, Self.write(frozen ? "1" : "0", to: dir + "/cgroup.freeze") else { return }
        guard !frozen else { return }
        for _ in 0..<1000 {
            guard let events = try? String(contentsOfFile: dir + "/cgroup.events", encoding: .utf8),
                  events.contains("frozen 1") else { return }
            usleep(100)
        }
    }

    /// How many processes the kernel's OOM killer has killed in the sandbox (0 when unknown).
    func oomKills() -> Int {
        var files: [String] = []
        if let dir = v2Directory { files.append(dir + "/memory.events") }
        if let dir = v1MemoryDirectory { files.append(dir + "/memory.oom_control") }
        var total = 0
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
                total += Int(line.split(separator: " ").last ?? "") ?? 0
            }
        }
        return total
    }

    /// Kills every process of the sandbox and waits (bounded) until none is left.
    /// Returns the pids still alive afterwards (empty on success).
    @discardableResult
    func killAll(reap: (pid_t) -> Void) -> Set<pid_t> {
        let groups = leaders
        setFrozen(false)
        for attempt in 0..<200 {
            if let dir = v2Directory { _ = Self.write("1", to: dir + "/cgroup.kill") }
            let alive = members()
            // Stop first so nothing forks while the tree is being killed, then kill.
            for pid in alive { kill(pid, SIGSTOP) }
            for group in groups { kill(-group, SIGKILL) }
            for pid in alive { kill(pid, SIGKILL) }
            for leader in leaders { reap(leader) }
            leaders.removeAll()
            killSwitch?.clearGroups()
            // SIGKILL is asynchronous: wait until the killed processes have really exited.
            Self.waitGone(alive, timeoutMs: 2000)
            let left = members()
            if left.isEmpty { return [] }
            if attempt > 0 { usleep(5000) }
        }
        return members()
    }

    /// Waits (bounded) until none of `pids` is alive (zombies count as gone).
    static func waitGone(_ pids: Set<pid_t>, timeoutMs: Int) {
        var remaining = pids
        for _ in 0..<timeoutMs {
            remaining = remaining.filter { pid in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return false }
                return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
            }
            if remaining.isEmpty { return }
            usleep(1000)
        }
    }

    /// Removes the cgroup directories (call after `killAll`).
    func remove() {
        for dir in [v2Directory, v1MemoryDirectory].compactMap({ $0 }) { rmdir(dir) }
        killSwitch?.setCgroups([])
    }

    /// Processes whose parent chain leads to one of `roots` (from /proc).
    static func descendants(of roots: Set<pid_t>) -> Set<pid_t> {
        guard !roots.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var parent: [pid_t: pid_t] = [:]
        for entry in entries {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let ppid = pid_t(fields[1]) { parent[pid] = ppid }
        }
        var out = Set<pid_t>()
        for pid in parent.keys {
            var cur = pid, depth = 0
            while depth < 64, let p = parent[cur] {
                if roots.contains(cur) || roots.contains(p) { out.insert(pid); break }
                cur = p; depth += 1
            }
        }
        return out.union(roots.filter { parent[$0] != nil })
    }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    static func readNumber(_ path: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
