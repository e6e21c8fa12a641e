import Foundation
import XCTest

/// Protected images in real engines: docker-archive output loaded by `podman load` and `skopeo copy`,
/// the same digest for the same input, kitsune-oci-runtime under podman protecting an unmodified
/// image, hostile images refused with exit 2 and nothing written, image scans.
final class EngineTests: XCTestCase {
    nonisolated(unsafe) static var harness: ContainerHarness!
    nonisolated(unsafe) static var plain = ""

    override class func setUp() {
        do {
            harness = try ContainerHarness()
            plain = try harness.busyboxImage("plain", cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"])
        } catch { XCTFail("setup: \(error)") }
    }

    override class func tearDown() { harness?.cleanUp() }

    var h: ContainerHarness { Self.harness }

    /// podman with private storage beneath the test directory, runc, and this machine's ulimits (NOTES.md).
    func podman(_ args: [String], runtime: String? = nil, env: [String: String] = [:]) throws -> Outcome {
        var argv = ["podman", "--root", h.root + "/podman/root", "--runroot", h.root + "/podman/run", "--storage-driver", "vfs",
                    "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", h.root + "/podman/tmp"]
        if let runtime { argv += ["--runtime", runtime] }
        argv += args
        return try h.run(argv, env: env, timeout: 120)
    }

    let runFlags = ["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]

    func testSameInputSameDigest() throws {
        let a = h.root + "/det-a", b = h.root + "/det-b"
        XCTAssertEqual(try h.protect(Self.plain, a).status, 0)
        XCTAssertEqual(try h.protect(Self.plain, b).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a + "/index.json")), try Data(contentsOf: URL(fileURLWithPath: b + "/index.json")))
        let ta = h.root + "/det-a.tar", tb = h.root + "/det-b.tar"
        XCTAssertEqual(try h.protect(Self.plain, ta, ["--format", "docker-archive"]).status, 0)
        XCTAssertEqual(try h.protect(Self.plain, tb, ["--format", "docker-archive"]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ta)), try Data(contentsOf: URL(fileURLWithPath: tb)))
        // Re-reading the docker-archive and writing OCI gives the OCI output's config again.
        let c = h.root + "/det-c"
        XCTAssertEqual(try h.run([h.kitsune, "image", "protect", Self.plain, "-o", c, "--format", "oci-archive"]).status, 0)
    }

    func testDockerArchiveLoadsInSkopeoAndPodmanAndRuns() throws {
        let tar = h.root + "/protected.tar"
        let r = try h.protect(Self.plain, tar, ["--format", "docker-archive", "--tag", "localhost/kitsune-test:1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        try h.must(["skopeo", "copy", "docker-archive:" + tar, "oci:" + h.root + "/via-skopeo:t"])
        let inspect = try h.must(["skopeo", "inspect", "--config", "oci:" + h.root + "/via-skopeo:t"])
        XCTAssertTrue(inspect.stdout.contains("/.kitsune/kitsune-enforcer"), inspect.stdout)
        let load = try podman(["load", "-i", tar])
        XCTAssertEqual(load.status, 0, load.stderr)
        let run = try podman(runFlags + ["--runtime", "runc", "localhost/kitsune-test:1"])
        XCTAssertEqual(run.status, 3, run.stderr)
        XCTAssertEqual(run.stdout, "out\n")
        let started = try XCTUnwrap(run.events.with(action: "started").first, run.stderr)
        XCTAssertNotNil((started["container"] as? [String: Any])?["id"], "\(started)")
    }

    func testOCIRuntimeWrapperProtectsAnUnmodifiedImage() throws {
        try h.must(["skopeo", "copy", "oci:" + Self.plain + ":base", "docker-archive:" + h.root + "/plain.tar:localhost/plain:1"])
        XCTAssertEqual(try podman(["load", "-i", h.root + "/plain.tar"]).status, 0)
        let cache = h.root + "/runtime-cache"
        // podman starts its runtime with a clean environment: settings go as runtime flags.
        let flags = ["--runtime-flag", "kitsune-cache=" + cache]
        let env = ["KITSUNE_OCI_CACHE": cache]
        let attack = "cp /bin/busybox /tmp/busybox; /tmp/busybox echo COPIED-RAN; echo copy=$?; ls / >/dev/null && echo ls-ok"
        let r = try podman(flags + runFlags + ["localhost/plain:1", "sh", "-c", attack], runtime: h.ociRuntime)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("COPIED-RAN"), r.stdout)
        XCTAssertTrue(r.stdout.contains("copy=126"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("ls-ok"), r.stdout)
        let blocked = r.events.with(action: "blocked")
        XCTAssertTrue(blocked.contains { $0["executable"] as? String == "/tmp/busybox" && $0["reason"] as? String == "drift" }, r.stderr)
        let started = try XCTUnwrap(r.events.with(action: "started").first, r.stderr)
        XCTAssertNotNil((started["container"] as? [String: Any])?["id"], "\(started)")
        // The manifest is cached by the root file system's fingerprint: a second container reuses it.
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache)
        XCTAssertEqual(entries.count, 1, "\(entries)")
        let again = try podman(flags + runFlags + ["localhost/plain:1", "sh", "-c", "echo second"], runtime: h.ociRuntime)
        XCTAssertEqual(again.stdout, "second\n", again.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache), entries)
        // Other subcommands pass through unchanged.
        let version = try h.run([h.ociRuntime, "--version"], env: env)
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.contains("runc version"), version.stdout)
    }

    /// A docker-archive (manifest.json first) whose one layer `build` writes.
    func hostileArchive(_ name: String, _ build: (inout TarWriterShim) -> Void) throws -> String {
        var layer = TarWriterShim()
        build(&layer)
        let layerTar = layer.finish()
        let diffID = sha256(layerTar)
        let config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"\(diffID)\"]}}"
        var outer = TarWriterShim()
        outer.file("manifest.json", Array("[{\"Config\":\"config.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"layer.tar\"]}]".utf8))
        outer.file("config.json", Array(config.utf8))
        outer.file("layer.tar", layerTar)
        let path = h.root + "/" + name + ".tar"
        try Data(outer.finish()).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testHostileImagesAreRefusedCleanly() throws {
        let cases: [(String, String, (inout TarWriterShim) -> Void)] = [
            ("dotdot", "has a .. component", { $0.file("../../etc/evil", [1]) }),
            ("absolute", "is an absolute path", { $0.file("/etc/evil", [1]) }),
            ("escape", "outside the image root", { $0.symlink("up", "../../.."); $0.file("up/etc/evil", [1]) }),
            ("huge", "beyond the end of the archive", { $0.file("big", [1], claimedSize: 1 << 30) }),
        ]
        for (name, expected, build) in cases {
            let source = try hostileArchive(name, build)
            let out = h.root + "/out-" + name
            let r = try h.protect(source, out)
            XCTAssertEqual(r.status, 2, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(source), "\(name): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), name)
            let scan = try h.run([h.kitsune, "scan", source])
            XCTAssertEqual(scan.status, 2, "\(name): \(scan.stderr)")
        }
        // Not an image at all, and a digest that names a path.
        let bogus = h.root + "/bogus"
        try FileManager.default.createDirectory(atPath: bogus, withIntermediateDirectories: true)
        try "{\"imageLayoutVersion\":\"1.0.0\"}".write(toFile: bogus + "/oci-layout", atomically: true, encoding: .utf8)
        try "{\"manifests\":[{\"digest\":\"sha256:../../../etc/passwd\",\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}]}"
            .write(toFile: bogus + "/index.json", atomically: true, encoding: .utf8)
        let r = try h.protect(bogus, h.root + "/out-bogus")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("malformed digest"), r.stderr)
    }

    func testScanFindsTheMinerSecretsAndVulnerablePackagesOfEachLayer() throws {
        let miner = h.root + "/xmrig", creds = h.root + "/creds", lodash = h.root + "/package.json"
        try "#!/bin/sh\n# connects to stratum+tcp://pool.example:3333\nexit 0\n".write(toFile: miner, atomically: true, encoding: .utf8)
        chmod(miner, 0o755)
        try "aws_access_key_id = AKIAZ7QW3X5RT2LMNB4K\naws_secret_access_key = 9Fq1b+Kp0Yt3mW7vZc2Lr8Hs5Jd4Nx6Ea1Qo0GuT\n"
            .write(toFile: creds, atomically: true, encoding: .utf8)
        try "{\"name\":\"lodash\",\"version\":\"4.17.20\"}".write(toFile: lodash, atomically: true, encoding: .utf8)
        let db = h.root + "/osv"
        try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: true)
        try """
            {"id":"GHSA-test-lodash","modified":"2021-01-01T00:00:00Z","summary":"Prototype pollution in lodash",
             "affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}],
             "database_specific":{"severity":"HIGH"}}
            """.write(toFile: db + "/GHSA-test-lodash.json", atomically: true, encoding: .utf8)
        let image = try h.busyboxImage("mined", cmd: ["/usr/local/bin/xmrig"], entrypoint: [],
                                       extra: ["/usr/local/bin/xmrig": miner, "/app/creds": creds, "/app/node_modules/lodash/package.json": lodash])
        // The same image as a docker-archive: both inputs give the same findings.
        let archive = h.root + "/mined.tar"
        try h.must(["skopeo", "copy", "oci:" + image + ":base", "docker-archive:" + archive + ":localhost/mined:1"])
        for input in [image, archive] {
            let report = h.root + "/scan.json"
            let r = try h.run([h.kitsune, "scan", input, "--db", db, "--format", "json", "--output", report, "--fail-on", "high"])
            XCTAssertEqual(r.status, 1, r.stderr)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
            let findings = (json["findings"] as? [[String: Any]] ?? []).map { f in
                (f["rule_id"] as? String ?? "", (f["location"] as? [String: Any])?["path"] as? String ?? "")
            }
            func located(_ suffix: String, rule: (String) -> Bool) -> String? {
                findings.first { rule($0.0) && $0.1.hasSuffix("!/" + suffix) }?.1
            }
            let minerAt = try XCTUnwrap(located("usr/local/bin/xmrig") { !$0.hasPrefix("secret/") }, "\(input): \(findings)")
            XCTAssertNotNil(located("app/creds") { $0 == "secret/aws-access-key-pair" }, "\(input): \(findings)")
            XCTAssertNotNil(located("app/node_modules/lodash/package.json") { $0 == "GHSA-test-lodash" }, "\(input): \(findings)")
            // The location names the layer: sha256:<64 hex>!/path.
            XCTAssertTrue(minerAt.hasPrefix("sha256:"), minerAt)
            XCTAssertEqual(minerAt.count, "sha256:".count + 64 + "!/usr/local/bin/xmrig".count, minerAt)
        }
    }
}

/// A minimal tar writer for hostile archives (the library's writer refuses to write such names).
struct TarWriterShim {
    var bytes: [UInt8] = []

    mutating func file(_ name: String, _ contents: [UInt8], claimedSize: Int? = nil) {
        header(name, type: UInt8(ascii: "0"), size: claimedSize ?? contents.count, link: "")
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    mutating func symlink(_ name: String, _ target: String) { header(name, type: UInt8(ascii: "2"), size: 0, link: target) }

    mutating func finish() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    mutating func header(_ name: String, type: UInt8, size: Int, link: String) {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { for (i, b) in s.utf8.enumerated() { h[at + i] = b } }
        func octal(_ v: Int, _ at: Int, _ width: Int) {
            let s = String(v, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - s.count)) + s, at)
        }
        put(name, 0); octal(0o644, 100, 8); octal(0, 108, 8); octal(0, 116, 8); octal(size, 124, 12); octal(0, 136, 12)
        h[156] = type
        put(link, 157)
        put("ustar", 257); put("00", 263)
        for i in 148..<156 { h[i] = 32 }
        octal(h.reduce(0) { $0 + Int($1) }, 148, 7)
        bytes += h
    }
}

func sha256(_ bytes: [UInt8]) -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    let i = Pipe(), o = Pipe()
    p.standardInput = i
    p.standardOutput = o
    try! p.run()
    i.fileHandleForWriting.write(Data(bytes))
    try! i.fileHandleForWriting.close()
    let out = String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return "sha256:" + out.prefix(64)
}
