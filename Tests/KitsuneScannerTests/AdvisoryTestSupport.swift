import Foundation
import XCTest
import KitsuneFindings
@testable import KitsuneScanner

/// Paths and helpers shared by the advisory tests.
enum AdvisoryFixtures {
    /// The repository root, from this file's location (Tests/KitsuneScannerTests/…).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `../shared/osv/PyPI/all.zip` (real PyPA snapshot). Fails the test when absent.
    static func pypiArchive() throws -> String {
        let path = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/osv/PyPI/all.zip").path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("the real PyPI advisory snapshot is missing at \(path): CI must provide ../shared/osv/PyPI/all.zip")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    /// The OSV JSON fixtures written for these tests (Fixtures/osv).
    static func osvDirectory() throws -> String {
        let url = try XCTUnwrap(Bundle.module.resourceURL).appendingPathComponent("Fixtures/osv")
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), "fixtures at \(url.path)")
        return url.path
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-a2-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    static func package(_ ecosystem: String, _ name: String, _ version: String, at location: String = "fixture/lockfile") -> DiscoveredPackage {
        DiscoveredPackage(ecosystem: ecosystem, name: name, version: version, locations: [location],
                          purl: EcosystemTable.shared.purl(ecosystem: ecosystem, name: name, version: version))
    }

    /// Runs a program and returns its exit status and output.
    @discardableResult
    static func run(_ executable: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    /// `python3` on PATH (needed for the local HTTP server and building zips). Fails clearly when absent.
    static func python3() throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        XCTFail("python3 is required (apt: python3) for the db update test")
        throw CocoaError(.fileNoSuchFile)
    }
}
