import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings

final class ZipReaderTests: XCTestCase {
    private func readAll(_ archive: ZipArchive, _ entry: ZipEntry, limits: ScanLimits = ScanLimits()) throws -> [UInt8] {
        let reader = try ZipEntryReader(archive: archive, entry: entry, limits: limits, budget: ScanBudget(limit: limits.maxTotalBytes))
        var out: [UInt8] = []
        while let chunk = try reader.next() { out += chunk }
        return out
    }

    func testStoredDeflatedAndZip64EntriesReadBackWithCRC() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        var fake = ScanTestSupport.FakeValues(seed: 7)
        let big = Array(fake.string(700_000).utf8)   // spans several inflate chunks
        for zip64 in [false, true] {
            let path = dir + "/a\(zip64).zip"
            try ScanTestSupport.writeZip([
                .init("stored.txt", "hello stored\n", deflate: false),
                .init("dir/deflated.bin", bytes: big),
                .init("empty.txt", ""),
            ], to: path, zip64: zip64)
            let archive = try ZipArchive(source: try FileSource(path: path), name: path, maxEntries: 100)
            XCTAssertEqual(archive.entries.map(\.name), ["stored.txt", "dir/deflated.bin", "empty.txt"])
            XCTAssertEqual(archive.entries[0].permissions, 0o644)
            XCTAssertEqual(try readAll(archive, archive.entries[0]), Array("hello stored\n".utf8))
            XCTAssertEqual(try readAll(archive, archive.entries[1]), big)
            XCTAssertEqual(try readAll(archive, archive.entries[2]), [])
        }
    }

    func testStreamedZipWithDataDescriptorsIsRead() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/streamed.zip"
        // zipfile writing to a pipe cannot seek back: sizes and CRC go in data descriptors (flag bit 3).
        let script = """
        import sys, zipfile
        with zipfile.ZipFile(sys.stdout.buffer, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("a/one.txt", "first file\\n" * 1000)
            z.writestr("b/two.env", "GITLAB=glpat-Zx9Qw8Er7Ty6Ui5Op4As\\n")
        """
        let data = try ScanTestSupport.run("/bin/sh", ["-c", "python3 -c '\(script)' | cat > \(path)"])
        XCTAssertEqual(data, "")
        let archive = try ZipArchive(source: try FileSource(path: path), name: path, maxEntries: 10)
        XCTAssertTrue(archive.entries.allSatisfy { $0.flags & 0x8 != 0 }, "expected data descriptors")
        XCTAssertEqual(try readAll(archive, archive.entries[0]), Array(String(repeating: "first file\n", count: 1000).utf8))
        let result = try ScanTestSupport.scanner().scan(path: path)
        XCTAssertEqual(result.findings(rule: "secret/gitlab-token").first?.location?.path, "b/two.env")
    }

    func testCorruptedDataFailsTheCRCCheck() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/c.zip"
        try ScanTestSupport.writeZip([.init("a.txt", "some stored content here\n", deflate: false)], to: path)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let data = Array("some stored".utf8)
        let at = try XCTUnwrap(bytes.indices.first { Array(bytes[$0..<min(bytes.count, $0 + data.count)]) == data })
        bytes[at] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try ScanTestSupport.scanner().scan(path: path)
        let finding = try XCTUnwrap(result.findings(rule: "input/crc-mismatch").first)
        XCTAssertEqual(finding.location?.path, "a.txt")
    }

    func testTruncatedTopLevelZipIsAnErrorNamingTheInput() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/t.zip"
        var fake = ScanTestSupport.FakeValues(seed: 3)
        try ScanTestSupport.writeZip([.init("a.txt", fake.string(50_000)), .init("b.txt", "x")], to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ScanTestSupport.scanner().scan(path: path)) { error in
            let e = error as? KitsuneScanner.ScanInputError
            XCTAssertEqual(e?.input, path)
            XCTAssertTrue(e?.reason.contains("truncated") ?? false, "\(error)")
        }
    }

    func testBinaryGarbageNamedZipIsAnErrorAndGarbageFileIsScanned() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        var fake = ScanTestSupport.FakeValues(seed: 11)
        let garbage = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: fake.next()) }
        try Data(garbage).write(to: URL(fileURLWithPath: dir + "/g.zip"))
        XCTAssertThrowsError(try ScanTestSupport.scanner().scan(path: dir + "/g.zip")) { error in
            XCTAssertEqual((error as? ScanInputError)?.input, dir + "/g.zip")
        }
        // PK signature followed by garbage, as a top-level file and nested in a zip.
        let fakeZip = [0x50, 0x4b, 0x03, 0x04] + garbage
        try Data(fakeZip).write(to: URL(fileURLWithPath: dir + "/h.bin"))
        XCTAssertThrowsError(try ScanTestSupport.scanner().scan(path: dir + "/h.bin"))
        try ScanTestSupport.writeZip([.init("lib/bad.jar", bytes: fakeZip), .init("noise.bin", bytes: garbage)], to: dir + "/n.zip")
        let result = try ScanTestSupport.scanner().scan(path: dir + "/n.zip")
        XCTAssertEqual(result.findings(rule: "input/unreadable-archive").first?.location?.path, "lib/bad.jar")
        XCTAssertEqual(result.statistics["files"], 2)
    }

    func testEncryptedEntryIsReportedAndSkipped() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/e.zip"
        try ScanTestSupport.writeZip([.init("secret.txt", "ciphertext stand-in"), .init("plain.txt", "ok")], to: path)
        // Set the "encrypted" general purpose flag on the first entry (local and central headers).
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[6] |= 1
        let central = try XCTUnwrap(bytes.indices.first { $0 + 3 < bytes.count && bytes[$0...($0 + 3)].elementsEqual([0x50, 0x4b, 1, 2]) })
        bytes[central + 8] |= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try ScanTestSupport.scanner().scan(path: path)
        XCTAssertEqual(result.findings(rule: "input/encrypted-entry").map { $0.location?.path }, ["secret.txt"])
        XCTAssertEqual(result.statistics["files"], 1)
    }

    func testZipBombByRatioAndByLyingSizeStopsAtTheLimits() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/bomb.zip"
        try ScanTestSupport.writeZip([.init("zeros.bin", bytes: [UInt8](repeating: 0, count: 32 << 20)), .init("ok.txt", "fine")], to: path)
        let result = try ScanTestSupport.scanner().scan(path: path)
        let bomb = try XCTUnwrap(result.findings(rule: "input/zip-bomb").first)
        XCTAssertEqual(bomb.location?.path, "zeros.bin")
        XCTAssertTrue(bomb.message.contains("ratio"), bomb.message)
        XCTAssertEqual(bomb.severity, Severity.high)

        // Same data, but the central directory claims a small size: inflating stops there.
        let lying = dir + "/lying.zip"
        try ScanTestSupport.writeZip([.init("zeros.bin", bytes: [UInt8](repeating: 0, count: 4 << 20))], to: lying)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: lying)))
        let central = try XCTUnwrap(bytes.indices.first { $0 + 3 < bytes.count && bytes[$0...($0 + 3)].elementsEqual([0x50, 0x4b, 1, 2]) })
        bytes.replaceSubrange((central + 24)..<(central + 28), with: [0x00, 0x10, 0, 0]) // 4096 bytes
        try Data(bytes).write(to: URL(fileURLWithPath: lying))
        let limits = ScanLimits(maxCompressionRatio: 100_000)
        let lied = try ScanTestSupport.scanner(limits: limits).scan(path: lying)
        XCTAssertTrue(lied.findings(rule: "input/zip-bomb").first?.message.contains("declared size") ?? false, "\(lied.findings)")
    }

    func testOverlappingEntriesAreRejectedAsABomb() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/overlap.zip"
        try ScanTestSupport.writeZip([.init("a.txt", String(repeating: "a", count: 1000)), .init("b.txt", "b")], to: path)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let centrals = bytes.indices.filter { $0 + 3 < bytes.count && bytes[$0...($0 + 3)].elementsEqual([0x50, 0x4b, 1, 2]) }
        XCTAssertEqual(centrals.count, 2)
        bytes.replaceSubrange((centrals[1] + 42)..<(centrals[1] + 46), with: [0, 0, 0, 0]) // b.txt → a.txt's data
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try ScanTestSupport.scanner().scan(path: path)
        XCTAssertFalse(result.findings(rule: "input/zip-bomb").isEmpty, "\(result.findings)")
    }

    func testZipSlipEntriesAreFindingsAndNothingIsWritten() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let path = dir + "/slip.zip"
        try ScanTestSupport.writeZip([.init("../../evil-\(UUID().uuidString).sh", "#!/bin/sh\necho pwned\n", mode: 0o755),
                                      .init("/etc/cron.d/evil", "* * * * * root sh"),
                                      .init("safe/file.txt", "ok")], to: path)
        let before = try FileManager.default.contentsOfDirectory(atPath: dir)
        let result = try ScanTestSupport.scanner().scan(path: path)
        let slips = result.findings(rule: "input/zip-slip")
        XCTAssertEqual(slips.count, 2)
        XCTAssertTrue(slips.allSatisfy { $0.severity == Severity.high })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), before)
        XCTAssertEqual(result.statistics["files"], 3) // the contents are still scanned
    }

    func testNestedArchivesArePathedWithBangAndStopAtTheDepthLimit() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        var fake = ScanTestSupport.FakeValues(seed: 5)
        let token = "ghp_" + fake.string(36)
        try ScanTestSupport.writeZip([.init("config.properties", "github.token=\(token)\n")], to: dir + "/inner.jar")
        let inner = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/inner.jar")))
        try ScanTestSupport.writeZip([.init("lib/inner.jar", bytes: inner)], to: dir + "/middle.war")
        let middle = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/middle.war")))
        try ScanTestSupport.writeZip([.init("app/middle.war", bytes: middle)], to: dir + "/outer.zip")

        let result = try ScanTestSupport.scanner().scan(path: dir + "/outer.zip")
        XCTAssertEqual(result.findings(rule: "secret/github-token").first?.location?.path,
                       "app/middle.war!/lib/inner.jar!/config.properties")
        let shallow = try ScanTestSupport.scanner(limits: ScanLimits(maxDepth: 2)).scan(path: dir + "/outer.zip")
        XCTAssertTrue(shallow.findings(rule: "secret/github-token").isEmpty)
        XCTAssertEqual(shallow.findings(rule: "input/nesting-too-deep").first?.location?.path, "app/middle.war!/lib/inner.jar")
    }

    func testEntryCountAndTotalSizeLimits() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.writeZip((0..<20).map { .init("f\($0).txt", String(repeating: "x", count: 1000)) }, to: dir + "/many.zip")
        XCTAssertThrowsError(try ScanTestSupport.scanner(limits: ScanLimits(maxEntries: 10)).scan(path: dir + "/many.zip")) { error in
            XCTAssertTrue("\(error)".contains("limit of 10"), "\(error)")
        }
        let result = try ScanTestSupport.scanner(limits: ScanLimits(maxTotalBytes: 5000)).scan(path: dir + "/many.zip")
        XCTAssertEqual(result.findings(rule: "input/total-limit").count, 1)
        XCTAssertTrue(result.notes.contains { $0.contains("Scan incomplete") }, "\(result.notes)")
        XCTAssertLessThan(result.statistics["files"] ?? 99, 7)
    }
}
