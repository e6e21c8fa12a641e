import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings

/// Directories, symlinks, single files, huge inputs.
final class ScanInputTests: XCTestCase {
    func testSymlinkLoopsAreNotFollowedAndEscapesAreReported() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let root = dir + "/root"
        var f = ScanTestSupport.FakeValues(seed: 31)
        try ScanTestSupport.write("TOKEN=glpat-\(f.string(20))\n", to: root + "/a/config.env")
        try FileManager.default.createSymbolicLink(atPath: root + "/a/loop", withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: root + "/a/self", withDestinationPath: "self")
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "../../../etc")
        try ScanTestSupport.write("outside secret glpat-\(f.string(20))\n", to: dir + "/outside.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/out.txt", withDestinationPath: "../outside.txt")
        let result = try ScanTestSupport.scanner().scan(path: root)
        XCTAssertEqual(result.statistics["files"], 1)
        XCTAssertEqual(result.findings(rule: "secret/gitlab-token").map { $0.location?.path }, ["a/config.env"])
        XCTAssertEqual(Set(result.findings(rule: "input/symlink-escape").compactMap { $0.location?.path }), ["escape", "out.txt"])
    }

    func testSymlinkEntriesInZipsAreReportedNotFollowed() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.writeZip([.init("etc-passwd", bytes: Array("/etc/passwd".utf8), mode: 0o777, deflate: false, symlink: true),
                                      .init("lib/ok", bytes: Array("../app.py".utf8), mode: 0o777, deflate: false, symlink: true),
                                      .init("app.py", "print(1)\n")], to: dir + "/links.zip")
        let result = try ScanTestSupport.scanner().scan(path: dir + "/links.zip")
        XCTAssertEqual(result.findings(rule: "input/symlink-escape").map { $0.location?.path }, ["etc-passwd"])
        XCTAssertEqual(result.statistics["files"], 1)
    }

    func testMissingInputAndSpecialFilesAreClearErrors() throws {
        XCTAssertThrowsError(try ScanTestSupport.scanner().scan(path: "/nonexistent/fn.zip")) { error in
            XCTAssertEqual((error as? KitsuneScanner.ScanInputError)?.input, "/nonexistent/fn.zip")
        }
        XCTAssertThrowsError(try ScanTestSupport.scanner().scan(path: "/dev/null"))
    }

    /// A file much larger than any buffer is streamed: the secret at its end is found and the peak
    /// resident memory grows by far less than the file size.
    func testLargeFileIsStreamedWithBoundedMemory() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/big.log"
        let size = 128 << 20
        var f = ScanTestSupport.FakeValues(seed: 41)
        let tail = "\nlast line AKIA\(f.string(16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))\n"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))          // sparse: 128 MiB of zeros
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(tail.utf8))
        try handle.close()

        // Reset the peak RSS (Linux: writing 5 to clear_refs) so the measurement covers this scan only.
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = Self.peakResidentKB()
        XCTAssertGreaterThan(before, 0, "VmHWM not readable")
        let result = try ScanTestSupport.scanner().scan(path: path)
        let growthMB = (Self.peakResidentKB() - before) / 1024
        XCTAssertEqual(result.findings(rule: "secret/aws-access-key-id").first?.location?.line, 2)
        XCTAssertEqual(result.statistics["bytes"], size + tail.utf8.count)
        XCTAssertLessThan(growthMB, 64, "peak RSS grew by \(growthMB) MB while scanning a \(size >> 20) MB file")
    }

    static func peakResidentKB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    func testTemplatesAreRecognisedForTheTemplateChecker() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.write("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources: {}\n", to: dir + "/template.yaml")
        try ScanTestSupport.write("name: not a template\n", to: dir + "/config.yaml")
        XCTAssertTrue(FunctionScanner.looksLikeTemplate(path: dir + "/template.yaml"))
        XCTAssertFalse(FunctionScanner.looksLikeTemplate(path: dir + "/config.yaml"))
    }
}
