import Foundation
import KitsuneContainer
import XCTest

/// Layer flattening (whiteouts, opaque directories, hard links, symlinks across layers) and the
/// manifest it yields; hostile archives refused with a clear error.
final class FlattenTests: XCTestCase {
    let rules = try! ManifestRules.builtIn()
    let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]

    func layer(_ build: (inout TarWriter) -> Void) -> [UInt8] {
        var t = TarWriter()
        build(&t)
        return t.finish()
    }

    func testWhiteoutsOpaqueDirectoriesHardLinksAndSymlinks() throws {
        var tree = LayerFlattener(rules: rules)
        try tree.apply(tar: layer { t in
            t.directory("usr/bin")
            t.file("usr/bin/tool", contents: elf, mode: 0o755)
            t.file("usr/bin/gone", contents: elf, mode: 0o755)
            t.symlink("bin", target: "usr/bin")
            t.directory("opt/app")
            t.file("opt/app/old", contents: elf, mode: 0o755)
            t.file("opt/app/data.txt", contents: Array("x".utf8))
        }, layer: "sha256:one", maxEntries: 100)
        try tree.apply(tar: layer { t in
            t.file("usr/bin/.wh.gone", contents: [])
            t.directory("opt/app")
            t.file("opt/app/.wh..wh..opq", contents: [])
            t.file("opt/app/new.py", contents: Array("print(1)".utf8))
            t.file("bin/added", contents: Array("#!/bin/sh\n".utf8), mode: 0o755)   // written through the bin → usr/bin symlink
            t.header("usr/bin/linked", type: UInt8(ascii: "1"), mode: 0o755, size: 0, link: "usr/bin/tool")
        }, layer: "sha256:two", maxEntries: 100)
        XCTAssertNil(tree.nodes["usr/bin/gone"])
        XCTAssertNil(tree.nodes["opt/app/old"])
        XCTAssertNil(tree.nodes["opt/app/data.txt"])
        XCTAssertNotNil(tree.nodes["opt/app/new.py"])
        XCTAssertNotNil(tree.nodes["usr/bin/added"])
        XCTAssertNil(tree.nodes["bin/added"])
        let manifest = ContainerManifest.build(tree)
        XCTAssertEqual(manifest.root, "/")
        XCTAssertEqual(manifest.files.map(\.path), ["opt/app/new.py", "usr/bin/added", "usr/bin/linked", "usr/bin/tool"])
        let byPath = Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.path, $0) })
        XCTAssertEqual(byPath["usr/bin/linked"]?.sha256, byPath["usr/bin/tool"]?.sha256)
        XCTAssertEqual(byPath["usr/bin/added"]?.kind, .script)
        XCTAssertEqual(tree.nodes["usr/bin/added"]?.layer, "sha256:two")
    }

    func testHostileEntriesAreRefused() {
        func refuse(_ name: String, _ expected: String, _ build: (inout TarWriter) -> Void) {
            var tree = LayerFlattener(rules: rules)
            XCTAssertThrowsError(try tree.apply(tar: layer(build), layer: "sha256:bad", maxEntries: 100), name) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains("sha256:bad"), "\(name): \(error)")
            }
        }
        refuse("dot-dot", "has a .. component") { $0.file("usr/../../etc/passwd", contents: []) }
        refuse("absolute", "is an absolute path") { $0.file("/etc/passwd", contents: []) }
        refuse("symlink escape", "outside the image root") { t in
            t.symlink("escape", target: "../../../../host")
            t.file("escape/evil", contents: elf, mode: 0o755)
        }
        refuse("hard link to nothing", "not a regular file of the image") { t in
            t.header("a", type: UInt8(ascii: "1"), mode: 0o644, size: 0, link: "missing")
        }
        refuse("hard link outside", "has a .. component") { t in
            t.header("a", type: UInt8(ascii: "1"), mode: 0o644, size: 0, link: "../etc/shadow")
        }
    }

    func testHugeSizesAndCorruptHeadersAreRefused() {
        var t = TarWriterShim()
        t.file("big", Array(repeating: 7, count: 600), claimedSize: 1 << 30)
        var bytes = t.finish()
        XCTAssertThrowsError(try TarReader.entries(bytes, name: "huge.tar")) { XCTAssertTrue("\($0)".contains("beyond the end of the archive"), "\($0)") }
        bytes[0] ^= 1
        XCTAssertThrowsError(try TarReader.entries(bytes, name: "huge.tar")) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
        XCTAssertThrowsError(try Compression.decompress(try Compression.gzip(Array(repeating: 0, count: 1 << 20)), name: "bomb", limit: 1000)) {
            XCTAssertTrue("\($0)".contains("more than 1000 bytes"), "\($0)")
        }
    }

    func testGzipAndTarAreDeterministic() throws {
        let a = layer { $0.file("x", contents: elf, mode: 0o755) }
        let b = layer { $0.file("x", contents: elf, mode: 0o755) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(try Compression.gzip(a), try Compression.gzip(b))
        XCTAssertEqual(try Compression.decompress(try Compression.gzip(a), name: "x", limit: 1 << 20), a)
        let long = String(repeating: "d/", count: 80) + "file"
        let entries = try TarReader.entries(layer { $0.file(long, contents: [1, 2, 3]) }, name: "long")
        XCTAssertEqual(entries.map(\.path), [long])
    }

    func testRuntimeArguments() {
        let a = RuntimeArguments(["--root", "/run/runc", "--kitsune-cache=/c", "--systemd-cgroup", "create", "--bundle", "/b", "--pid-file", "/p", "abc"])
        XCTAssertEqual(a.command, "create")
        XCTAssertEqual(a.bundle, "/b")
        XCTAssertEqual(a.containerID, "abc")
        XCTAssertEqual(a.kitsuneFlags, ["kitsune-cache": "/c"])
        XCTAssertEqual(a.passthrough, ["--root", "/run/runc", "--systemd-cgroup", "create", "--bundle", "/b", "--pid-file", "/p", "abc"])
        let b = RuntimeArguments(["--kitsune-mode", "audit", "--log", "x", "run", "-b", "/c", "id1"])
        XCTAssertEqual(b.bundle, "/c")
        XCTAssertEqual(b.kitsuneFlags["kitsune-mode"], "audit")
        XCTAssertEqual(b.passthrough, ["--log", "x", "run", "-b", "/c", "id1"])
        XCTAssertEqual(RuntimeArguments(["state", "id"]).command, "state")
    }
}
