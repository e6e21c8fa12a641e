import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import KitsuneLambda

/// The sandbox's process bookkeeping: cgroups when present, process groups + /proc otherwise.
final class ProcessTrackerTests: LambdaTestCase {
    /// Starts `sh` in the sandbox; it leaves a setsid() grandchild and a plain child behind.
    private func spawnTree(_ tracker: ProcessTracker, marker: String) throws -> pid_t {
        let devnull = open("/dev/null", O_WRONLY)
        defer { close(devnull) }
        let spec = SpawnSpec(executable: "/bin/sh", arguments: ["/bin/sh", "-c", "/usr/bin/setsid /bin/sleep 300 & /bin/sleep 300 & wait"],
                             environment: ["MARK": marker, "PATH": "/usr/bin:/bin"], mounts: [], workingDirectory: "/",
                             uid: 65534, gid: 65534, outputFD: devnull)
        let process = try SandboxSpawner().spawn(spec) { tracker.adopt($0) }
        if process.exitFD >= 0 { close(process.exitFD) }
        // Settled means both children have exec'd sleep: a process caught mid-fork or mid-exec
        // (its environ briefly unreadable) must not make the count flicker.
        let deadline = Date().addingTimeInterval(5)
        while !Self.settled(marker) && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(Self.settled(marker), "sh and two sleeps are running")
        return process.pid
    }

    private static func settled(_ marker: String) -> Bool {
        let pids = Fixture.processes(withMarker: marker)
        let sleeps = pids.filter { (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) == "sleep\n" }
        return pids.count == 3 && sleeps.count == 2
    }

    func testFallbackWithoutCgroupsKillsSetsidGrandchildrenAndMeasuresVmHWM() throws {
        let tracker = ProcessTracker(name: "unused", memoryLimitBytes: 0, useCgroups: false)
        XCTAssertNil(tracker.v2Directory)
        XCTAssertEqual(tracker.memorySource, "sum of VmHWM over the process tree")
        let marker = "KITSUNE_TRACKER_\(UUID().uuidString)"
        _ = try spawnTree(tracker, marker: marker)
        XCTAssertEqual(tracker.members().count, 3)
        XCTAssertGreaterThan(tracker.peakMemoryBytes(), 100_000)
        let left = tracker.killAll { pid in var status: Int32 = 0; _ = waitpid(pid, &status, 0) }
        XCTAssertEqual(left, [])
        XCTAssertEqual(Fixture.processes(withMarker: marker), [])
    }

    func testCgroupsTrackKillAndAreRemoved() throws {
        let tracker = ProcessTracker(name: "kitsune-lambda-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))",
                                     memoryLimitBytes: 256 << 20)
        let dirs = [tracker.v2Directory, tracker.v1MemoryDirectory].compactMap { $0 }
        XCTAssertFalse(dirs.isEmpty, "this host should offer a writable cgroup v2 or v1 memory hierarchy")
        let marker = "KITSUNE_TRACKER_\(UUID().uuidString)"
        _ = try spawnTree(tracker, marker: marker)
        if let v1 = tracker.v1MemoryDirectory {
            XCTAssertEqual(ProcessTracker.readNumber(v1 + "/memory.limit_in_bytes"), 256 << 20, "memory size becomes the limit")
        }
        XCTAssertGreaterThan(tracker.peakMemoryBytes(), 0)
        let left = tracker.killAll { pid in var status: Int32 = 0; _ = waitpid(pid, &status, 0) }
        XCTAssertEqual(left, [])
        XCTAssertEqual(Fixture.processes(withMarker: marker), [])
        tracker.remove()
        for dir in dirs { XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "\(dir) removed") }
    }
}
