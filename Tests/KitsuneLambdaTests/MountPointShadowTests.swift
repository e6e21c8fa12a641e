import Foundation
import XCTest
@testable import KitsuneLambda

/// The sandbox's mount points that the host lacks are provided inside the sandbox's namespace only:
/// nothing is created on the host (a fresh machine has no /var/task).
final class MountPointShadowTests: XCTestCase {
    func testMissingMountPointsAreShadowedNotCreated() throws {
        let fm = FileManager.default
        let base = try Fixture.temporaryDirectory().path
        let host = base + "/host/var", staging = base + "/staging"
        try fm.createDirectory(atPath: host + "/lib/dpkg", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: host + "/task-old", withIntermediateDirectories: true)
        XCTAssertTrue(fm.createFile(atPath: host + "/marker", contents: Data("x".utf8)))
        try fm.createSymbolicLink(atPath: host + "/run", withDestinationPath: "/run")
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let before = try fm.contentsOfDirectory(atPath: host).sorted()

        let shadow = try MountPointShadow.prepare(for: [host + "/task", host + "/runtime", host + "/lib"], under: staging)

        XCTAssertEqual(try fm.contentsOfDirectory(atPath: host).sorted(), before, "the host directory is untouched")
        let copy = staging + "/shadow" + host
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: copy).sorted(), ["lib", "marker", "run", "runtime", "task", "task-old"])
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: copy + "/run"), "/run", "links are copied, not bound")
        XCTAssertEqual(shadow.mounts.map(\.target), [copy + "/lib", copy + "/marker", copy + "/task-old", host])
        XCTAssertEqual(shadow.mounts.map(\.source), [host + "/lib", host + "/marker", host + "/task-old", copy])
        XCTAssertTrue(shadow.mounts.allSatisfy { $0.passThrough && !$0.readOnly })
    }

    func testNothingToShadowWhenTheHostHasTheMountPoints() throws {
        let base = try Fixture.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: base + "/task", withIntermediateDirectories: true)
        let shadow = try MountPointShadow.prepare(for: [base + "/task"], under: base)
        XCTAssertEqual(shadow.mounts, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: base + "/shadow"))
    }

    func testAMissingTopLevelDirectoryIsAClearError() throws {
        let base = try Fixture.temporaryDirectory().path
        XCTAssertThrowsError(try MountPointShadow.prepare(for: ["/kitsune-no-such-top-level-\(getpid())/x"], under: base)) {
            XCTAssertTrue("\($0)".contains("this host has no /kitsune-no-such-top-level-"), "\($0)")
        }
    }
}
