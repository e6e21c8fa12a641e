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
        print(z.read("kitsune/wrapper").decode().splitlines()[-1])
        """, zip.path], tool: "python3")
        let lines = listing.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("kitsune/bin/kitsune-enforcer 0o100755"), listing)
        XCTAssertTrue(lines[1].hasPrefix("kitsune/policy.yaml 0o100644"), listing)
        XCTAssertTrue(lines[2].hasPrefix("kitsune/wrapper 0o100755"), listing)
        XCTAssertEqual(lines[3], #"exec /opt/kitsune/bin/kitsune-enforcer --policy /opt/kitsune/policy.yaml -- "$@""#)
        XCTAssertEqual(try Data(contentsOf: zip), try LayerBuilder.archive(enforcer: enforcer, policy: nil), "same input, same bytes")
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
}
