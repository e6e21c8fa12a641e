import Foundation
import KitsunePolicy
import XCTest

/// `kitsune manifest`: which files are inventoried, and the JSON it writes.
final class ManifestBuilderTests: XCTestCase {
    func testInventoriesExecutableContentOnly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        try fm.copyItem(atPath: "/bin/true", toPath: dir.appendingPathComponent("bin/tool").path)
        chmod(dir.appendingPathComponent("bin/tool").path, 0o644)                        // ELF without x bit: still listed
        try "#!/bin/sh\necho hi\n".write(to: dir.appendingPathComponent("run.sh"), atomically: true, encoding: .utf8)
        try "data".write(to: dir.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try "x".write(to: dir.appendingPathComponent("flagged"), atomically: true, encoding: .utf8)
        chmod(dir.appendingPathComponent("flagged").path, 0o750)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("link").path, withDestinationPath: "/bin/true")

        let m = try ManifestBuilder.build(directory: dir.path, root: "/var/task")
        XCTAssertEqual(m.root, "/var/task")
        XCTAssertEqual(m.files.map(\.path), ["bin/tool", "flagged", "run.sh"])
        XCTAssertEqual(m.files.map(\.kind), [.elf, .other, .script])
        XCTAssertEqual(m.files[0].mode, "0644")
        XCTAssertEqual(m.files[1].sha256, "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")   // sha256("x")
        let json = String(decoding: m.jsonData(), as: UTF8.self)
        XCTAssertTrue(json.hasPrefix(#"{"version":1,"root":"/var/task","files":["#), json)
        let decoded = try JSONDecoder().decode(Manifest.self, from: m.jsonData())
        XCTAssertEqual(decoded, m)
        XCTAssertThrowsError(try ManifestBuilder.build(directory: dir.appendingPathComponent("data.txt").path))
        XCTAssertThrowsError(try ManifestBuilder.build(directory: dir.path, root: "relative"))
    }
}
