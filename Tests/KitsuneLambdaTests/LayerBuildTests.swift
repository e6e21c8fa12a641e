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
        try LayerBuilder.build(enforcer: enforcer, policy: nil, output: zip)
        let listing = try Fixture.run(["/usr/bin/python3", "-c", """
        import zipfile, sys
        z = zipfile.ZipFile(sys.argv[1])
        assert z.testzip() is None
        for i in z.infolist(): print(i.filename, oct(i.external_attr >> 16), i.file_size)
        print(z.read("kitsune/wrapper").decode().splitlines()[-1])
        """, zip.path], tool: "python3")
        let lines = listing.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("kitsune/bin/kitsune-enforcer 0o100755"), listing)
        XCTAssertTrue(lines[1].hasPrefix("kitsune/policy.yaml 0o100644"), listing)
        XCTAssertTrue(lines[2].hasPrefix("kitsune/wrapper 0o100755"), listing)
        XCTAssertEqual(lines[3], #"exec /opt/kitsune/bin/kitsune-enforcer --policy /opt/kitsune/policy.yaml -- "$@""#)
        let again = dir.appendingPathComponent("again.zip")
        try LayerBuilder.build(enforcer: enforcer, policy: nil, output: again)
        XCTAssertEqual(try Data(contentsOf: zip), try Data(contentsOf: again), "same input, same bytes")
    }

    func testBrokenPolicyIsRefusedAndNothingIsWritten() throws {
        let enforcer = try Fixture.enforcerBinary()
        let dir = try Fixture.temporaryDirectory()
        let policy = dir.appendingPathComponent("policy.yaml")
        try "version: 1\nmode: strict\n".write(to: policy, atomically: true, encoding: .utf8)
        let zip = dir.appendingPathComponent("layer.zip")
        XCTAssertThrowsError(try LayerBuilder.build(enforcer: enforcer, policy: policy, output: zip)) { error in
            XCTAssertTrue("\(error)".contains("policy.yaml:2: field `mode`"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: zip.path))
        XCTAssertThrowsError(try LayerBuilder.build(enforcer: URL(fileURLWithPath: "/etc/hostname"), policy: nil, output: zip))
    }
}
