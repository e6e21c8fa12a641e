import Foundation
import XCTest

/// A realistic image: Debian 12 minbase built with mmdebstrap (about 1 000 executables, dynamic
/// binaries and their libraries, each mapping checked against the manifest), protected, run by runc.
final class DebianImageTests: XCTestCase {
    func testMinbaseImageRunsAndDriftIsBlocked() throws {
        let h = try ContainerHarness()
        defer { h.cleanUp() }
        let layout = h.root + "/debian", build = h.root + "/debian-build"
        try h.must(["umoci", "init", "--layout", layout])
        try h.must(["umoci", "new", "--image", layout + ":base"])
        try h.must(["umoci", "unpack", "--image", layout + ":base", build])
        try h.must(["mmdebstrap", "--quiet", "--variant=minbase", "bookworm", build + "/rootfs"], timeout: 600)
        try h.must(["umoci", "repack", "--image", layout + ":base", build], timeout: 300)
        try h.must(["umoci", "config", "--image", layout + ":base", "--config.cmd", "/bin/bash"])
        try FileManager.default.removeItem(atPath: build)
        let protected = h.root + "/debian-protected"
        let p = try h.protect(layout, protected)
        XCTAssertEqual(p.status, 0, p.stderr)
        let script = """
            ls / >/dev/null && echo ls-ok; apt-get --version | head -1; perl -e 'print "perl-ok\\n"'
            cp /bin/ls /tmp/ls; /tmp/ls; echo copy=$?
            cp /usr/bin/true /usr/local/bin/t; echo plant=$?
            """
        let bundle = try h.unpack(protected, id: "kt-debian")
        let configPath = bundle + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as! [String: Any]
        var process = config["process"] as! [String: Any]
        let args = process["args"] as! [String]
        process["args"] = Array(args[...args.firstIndex(of: "--")!]) + ["/bin/bash", "-c", script]
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        defer { _ = try? h.run(["runc", "delete", "-f", "kt-debian"]) }
        let r = try h.run(["runc", "run", "-b", bundle, "kt-debian"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("ls-ok"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("apt 2."), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("perl-ok"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("copy=126"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("plant=1"), r.stdout + r.stderr)
        let blocked = r.events.with(action: "blocked")
        XCTAssertEqual(blocked.count, 1, r.stderr)
        XCTAssertEqual(blocked.first?["executable"] as? String, "/tmp/ls")
    }
}
