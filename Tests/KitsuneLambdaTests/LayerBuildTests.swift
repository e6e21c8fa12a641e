import Foundation
import XCTest
@testable import KitsuneLambda

/// `kitsune layer build`: a zip Lambda can extract under /opt, with modes kept and the policy
/// validated by the enforcer itself.
final class LayerBuildTests: LambdaTestCase {
    func testLayerZipContentsModesAndReproducibility() throws {
        let enforcer = try Fixture.enforcerBinary()
        let dir = try Fixture.temporaryDirectory()
        let zip = dir.appendingPathComponent("layer.zip")
        try LayerBuilder.archive(enforcer: enforcer, policy: nil).write(to: zip)
        let listing = try Fixture.run(["/usr/bin/python3", "-c", """
        import zipfile, sys
        z = zipfile.ZipFile(sys.argv[1])
        assert z.testzip() is None
        for i in z.infolist(): print(i.filename, oct(i.external_attr >> 16), i.file_size)
        print(z.read("kitsune/wrapper") == z.read("kitsune/bin/kitsune-enforcer"))
        """, zip.path], tool: "python3")
        var lines = listing.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("kitsune/bin/kitsune-enforcer 0o100755"), listing)
        // `swift build` makes kitsune-ship next to the enforcer: the layer carries it.
        if FileManager.default.fileExists(atPath: enforcer.deletingLastPathComponent().appendingPathComponent("kitsune-ship").path) {
            XCTAssertTrue(lines[1].hasPrefix("kitsune/bin/kitsune-ship 0o100755"), listing)
            lines.remove(at: 1)
        }
        XCTAssertTrue(lines[1].hasPrefix("kitsune/policy.yaml 0o100644"), listing)
        // The wrapper is the enforcer itself (a copy: no /bin/sh script to exec at each cold start).
        XCTAssertTrue(lines[2].hasPrefix("kitsune/wrapper 0o100755"), listing)
        XCTAssertEqual(lines[3], "True")
        XCTAssertEqual(try Data(contentsOf: zip), try LayerBuilder.archive(enforcer: enforcer, policy: nil), "same input, same bytes")
    }

    /// kitsune-ship is optional: taken from beside the enforcer when it is there, refused when it is not
    /// an executable, and the layer builds without it.
    func testShipHelperBesideTheEnforcer() throws {
        let built = try Fixture.enforcerBinary()
        let fm = FileManager.default
        let alone = try Fixture.temporaryDirectory()
        try fm.copyItem(at: built, to: alone.appendingPathComponent("kitsune-enforcer"))
        let paths = { (dir: URL) in try LayerBuilder.entries(enforcer: dir.appendingPathComponent("kitsune-enforcer"), policy: nil).map(\.path) }
        XCTAssertEqual(try paths(alone), ["kitsune/bin/kitsune-enforcer", "kitsune/policy.yaml", "kitsune/wrapper"])

        let paired = try Fixture.temporaryDirectory()
        try fm.copyItem(at: built, to: paired.appendingPathComponent("kitsune-enforcer"))
        let realShip = built.deletingLastPathComponent().appendingPathComponent("kitsune-ship")
        let ship = fm.fileExists(atPath: realShip.path) ? realShip : built    // any ELF stands in when it is not built
        try fm.copyItem(at: ship, to: paired.appendingPathComponent("kitsune-ship"))
        let entries = try LayerBuilder.entries(enforcer: paired.appendingPathComponent("kitsune-enforcer"), policy: nil)
        XCTAssertEqual(entries.map(\.path), ["kitsune/bin/kitsune-enforcer", "kitsune/bin/kitsune-ship", "kitsune/policy.yaml", "kitsune/wrapper"])
        XCTAssertEqual(entries[1].mode, 0o755)
        XCTAssertEqual(entries[1].data, try Data(contentsOf: ship))

        // Through a symbolic link to the enforcer (KITSUNE_ENFORCER=/usr/local/bin/kitsune-enforcer).
        let linked = try Fixture.temporaryDirectory()
        try fm.createSymbolicLink(at: linked.appendingPathComponent("kitsune-enforcer"), withDestinationURL: paired.appendingPathComponent("kitsune-enforcer"))
        XCTAssertTrue(try paths(linked).contains("kitsune/bin/kitsune-ship"))

        try "#!/bin/sh\n".write(to: alone.appendingPathComponent("kitsune-ship"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try paths(alone)) { XCTAssertTrue("\($0)".contains("not a kitsune-ship binary"), "\($0)") }
    }

    func testBrokenPolicyIsRefused() throws {
        let enforcer = try Fixture.enforcerBinary()
        let dir = try Fixture.temporaryDirectory()
        let policy = dir.appendingPathComponent("policy.yaml")
        try "version: 1\nmode: strict\n".write(to: policy, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LayerBuilder.archive(enforcer: enforcer, policy: policy)) { error in
            XCTAssertTrue("\(error)".contains("policy.yaml:2: field `mode`"), "\(error)")
        }
        XCTAssertThrowsError(try LayerBuilder.archive(enforcer: URL(fileURLWithPath: "/etc/hostname"), policy: nil))
    }

    /// A layer is built on a CI runner or a laptop, not in Lambda: whether `/var/task` exists there is
    /// a run-time fact. Build-time validation checks syntax, values and the files the policy names
    /// inside the layer itself.
    func testLayerBuildsOnAMachineWithoutTheFunctionsDirectories() throws {
        let enforcer = try Fixture.enforcerBinary()
        let dir = try Fixture.temporaryDirectory()
        let missing = dir.appendingPathComponent("no-such-task").path   // stands for /var/task on a build machine
        let policy = dir.appendingPathComponent("policy.yaml")
        try "version: 1\nmode: enforce\npackage: [\(missing), /opt]\nsystem: [/usr, \(missing)-system]\nmanifest: \(missing)/manifest.json\n"
            .write(to: policy, atomically: true, encoding: .utf8)
        let entries = try LayerBuilder.entries(enforcer: enforcer, policy: policy)
        XCTAssertEqual(entries.first { $0.path == "kitsune/policy.yaml" }?.data, try Data(contentsOf: policy))
        XCTAssertEqual(try LayerBuilder.validate(policy: policy, with: enforcer).sorted(),
                       [missing, missing + "-system", missing + "/manifest.json"].sorted())
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "validation creates nothing")

        // At run time the same policy still refuses to start without its package directory.
        XCTAssertThrowsError(try Fixture.run([enforcer.path, "--policy", policy.path, "--", "/bin/true"], tool: "kitsune-enforcer")) {
            XCTAssertTrue("\($0)".contains("package directory does not exist or is not a directory: \(missing)"), "\($0)")
        }

        // A file the policy places inside the Kitsune layer must be one of the layer's files.
        try "version: 1\nmanifest: /opt/kitsune/manifest.json\n".write(to: policy, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LayerBuilder.entries(enforcer: enforcer, policy: policy)) {
            XCTAssertTrue("\($0)".contains("names /opt/kitsune/manifest.json, which is inside the Kitsune layer"), "\($0)")
        }
        // Relative paths are still refused at build time.
        try "version: 1\npackage: [var/task]\n".write(to: policy, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LayerBuilder.entries(enforcer: enforcer, policy: policy)) {
            XCTAssertTrue("\($0)".contains("must be absolute"), "\($0)")
        }
    }
}
