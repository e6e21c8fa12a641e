import Foundation
import XCTest

/// `kitsune image protect` on a busybox-static image, run by runc: the entrypoint behaves as before,
/// and drift (a copied binary, a new executable, an overwritten image binary, memfd execution) is
/// blocked in enforce mode and reported in audit mode.
final class RuncProtectionTests: XCTestCase {
    nonisolated(unsafe) static var harness: ContainerHarness!
    nonisolated(unsafe) static var enforced = "", audited = "", memfd = ""

    override class func setUp() {
        do {
            let h = try ContainerHarness()
            harness = h
            memfd = try h.memfdExec()
            let plain = try h.busyboxImage("plain", cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"], extra: ["/usr/local/bin/memfd-exec": memfd])
            enforced = h.root + "/enforced"
            audited = h.root + "/audited"
            for (out, mode) in [(enforced, "enforce"), (audited, "audit")] {
                let r = try h.protect(plain, out, ["--mode", mode])
                guard r.status == 0 else { throw HarnessError("protect failed: \(r.stderr)") }
            }
        } catch { XCTFail("setup: \(error)") }
    }

    override class func tearDown() { harness?.cleanUp() }

    /// The protected image's process.args with the Cmd replaced (`docker run IMAGE CMD…` keeps the entrypoint).
    func command(_ layout: String, _ cmd: [String]) throws -> [String] {
        let bundle = try Self.harness.unpack(layout, id: "kt-args")
        defer { try? FileManager.default.removeItem(atPath: bundle) }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))) as! [String: Any]
        let args = (config["process"] as! [String: Any])["args"] as! [String]
        let entry = args.firstIndex(of: "/entrypoint.sh")!
        return Array(args[...entry]) + cmd
    }

    func testEntrypointKeepsStdoutStderrAndExitCode() throws {
        let r = try Self.harness.runc(Self.enforced, id: "kt-plain")
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertEqual(r.stdout, "out\n")
        XCTAssertTrue(r.stderr.contains("err\n"), r.stderr)
        let started = try XCTUnwrap(r.events.with(action: "started").first, r.stderr)
        XCTAssertEqual(started["mode"] as? String, "enforce")
        XCTAssertEqual((started["command"] as? [String])?.first, "/entrypoint.sh")
        let container = try XCTUnwrap(started["container"] as? [String: Any], "\(started)")
        XCTAssertTrue((container["image_digest"] as? String)?.hasPrefix("sha256:") ?? false)
        XCTAssertEqual(container["enforcer_is_pid1"] as? Bool, true)
        XCTAssertEqual((started["controls"] as? [String: String])?["drift"], "kernel+supervisor")
        XCTAssertTrue(r.events.with(action: "blocked").isEmpty, r.stderr)
    }

    static let attacks = """
        cp /bin/busybox /tmp/busybox && /tmp/busybox echo COPIED-RAN; echo "copy=$?"
        printf '#!/bin/sh\\necho NEW-RAN\\n' > /data/new && chmod +x /data/new && /data/new; echo "new=$?"
        echo 'echo PWNED' > /usr/local/bin/hello; echo "overwrite=$?"; /usr/local/bin/hello
        /usr/local/bin/memfd-exec /bin/busybox echo MEMFD-RAN; echo "memfd=$?"
        ls / >/dev/null && echo image-binaries-run
        """

    func testDriftIsBlockedInEnforceMode() throws {
        let r = try Self.harness.runc(Self.enforced, id: "kt-enforce", args: try command(Self.enforced, ["sh", "-c", Self.attacks]))
        XCTAssertEqual(r.status, 0, r.stderr)
        for ran in ["COPIED-RAN", "NEW-RAN", "PWNED", "MEMFD-RAN"] { XCTAssertFalse(r.stdout.contains(ran), "\(ran) ran:\n\(r.stdout)\n\(r.stderr)") }
        XCTAssertTrue(r.stdout.contains("copy=126"), r.stdout)
        XCTAssertTrue(r.stdout.contains("new=126"), r.stdout)
        // The kernel refuses the write itself (Landlock: no write beneath what may execute); the image's script still runs.
        XCTAssertFalse(r.stdout.contains("overwrite=0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("hello from the image"), r.stdout)
        XCTAssertFalse(r.stdout.contains("memfd=0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("image-binaries-run"), r.stdout)
        let blocked = r.events.with(action: "blocked")
        XCTAssertTrue(blocked.contains { $0["reason"] as? String == "drift" && $0["executable"] as? String == "/tmp/busybox" }, r.stderr)
        XCTAssertTrue(blocked.contains { $0["reason"] as? String == "drift" && $0["executable"] as? String == "/data/new" }, r.stderr)
        XCTAssertTrue(blocked.contains { $0["reason"] as? String == "fileless" }, r.stderr)
        XCTAssertTrue(blocked.allSatisfy { ($0["container"] as? [String: Any])?["image_digest"] != nil }, r.stderr)
    }

    func testDriftIsReportedInAuditMode() throws {
        let r = try Self.harness.runc(Self.audited, id: "kt-audit", args: try command(Self.audited, ["sh", "-c", Self.attacks]))
        XCTAssertEqual(r.status, 0, r.stderr)
        for ran in ["COPIED-RAN", "NEW-RAN", "PWNED", "MEMFD-RAN"] { XCTAssertTrue(r.stdout.contains(ran), "\(ran) did not run:\n\(r.stdout)\n\(r.stderr)") }
        let reported = r.events.with(action: "reported")
        XCTAssertTrue(r.events.with(action: "blocked").isEmpty, r.stderr)
        XCTAssertTrue(reported.contains { $0["reason"] as? String == "drift" && $0["executable"] as? String == "/tmp/busybox" }, r.stderr)
        XCTAssertTrue(reported.contains { $0["reason"] as? String == "drift" && $0["executable"] as? String == "/data/new" }, r.stderr)
        // The image's own script, rewritten in place: its content no longer matches the manifest.
        XCTAssertTrue(reported.contains { $0["reason"] as? String == "drift" && $0["executable"] as? String == "/usr/local/bin/hello" }, r.stderr)
        XCTAssertTrue(reported.contains { $0["reason"] as? String == "fileless" }, r.stderr)
    }

    func testSigtermReachesTheEntrypoint() throws {
        let h = Self.harness!
        let script = "trap 'echo got-term; exit 143' TERM; echo ready; while :; do sleep 0.1; done"
        let bundle = try h.unpack(Self.enforced, id: "kt-term", args: try command(Self.enforced, ["sh", "-c", script]))
        defer { _ = try? h.run(["runc", "delete", "-f", "kt-term"]); try? FileManager.default.removeItem(atPath: bundle) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ContainerHarness.which("runc")!)
        p.arguments = ["run", "-b", bundle, "kt-term"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var seen = Data()
        let deadline = Date().addingTimeInterval(20)
        while !String(decoding: seen, as: UTF8.self).contains("ready") && Date() < deadline { seen += out.fileHandleForReading.availableData }
        XCTAssertTrue(String(decoding: seen, as: UTF8.self).contains("ready"))
        try h.must(["runc", "kill", "kt-term", "TERM"])
        let stop = Date().addingTimeInterval(20)
        while p.isRunning && Date() < stop { usleep(20_000) }
        XCTAssertFalse(p.isRunning)
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        seen += out.fileHandleForReading.readDataToEndOfFile()
        XCTAssertTrue(String(decoding: seen, as: UTF8.self).contains("got-term"))
        XCTAssertEqual(p.terminationStatus, 143)
    }

    /// Image executables outside the system roots: a directory of nothing but executables is protected
    /// whole (nothing can be added); in a mixed one the executables are protected one by one, existing
    /// data files and subdirectories stay writable, new files cannot be created beside the executables.
    func testApplicationDirectoriesOutsideTheSystemRoots() throws {
        let h = Self.harness!
        let tool = Array("#!/bin/sh\necho tool-ran\n".utf8)
        let image = try h.tools.busyboxImage("appdirs", entrypoint: ["/entrypoint.sh"], cmd: ["sh", "-c", """
            /opt/app/bin/a && /opt/app/bin/b && /srv/app/server
            echo x > /opt/app/bin/new; echo "pure-new=$?"
            echo y >> /srv/app/data.txt; echo "data=$?"
            echo z > /srv/app/new; echo "mixed-new=$?"
            echo l > /srv/app/logs/l; echo "subdir=$?"
            echo w > /srv/app/server; echo "overwrite=$?"
            """],
            files: ["/opt/app/bin/a": tool, "/opt/app/bin/b": tool, "/srv/app/server": tool, "/srv/app/data.txt": [], "/srv/app/logs/.keep": []],
            executables: ["/opt/app/bin/a", "/opt/app/bin/b", "/srv/app/server"])
        let out = h.root + "/appdirs-protected"
        XCTAssertEqual(try h.protect(image, out).status, 0)
        let r = try h.runc(out, id: "kt-appdirs")
        XCTAssertEqual(r.stdout.components(separatedBy: "tool-ran").count - 1, 3, r.stdout + r.stderr)
        for expected in ["pure-new=1", "data=0", "mixed-new=1", "subdir=0", "overwrite=1"] {
            XCTAssertTrue(r.stdout.contains(expected), "\(expected):\n\(r.stdout)\n\(r.stderr)")
        }
        XCTAssertTrue(r.events.with(action: "blocked").isEmpty, r.stderr)
    }
}
