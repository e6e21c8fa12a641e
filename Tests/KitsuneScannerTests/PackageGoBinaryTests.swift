import Foundation
import XCTest
import KitsuneFindings
@testable import KitsuneScanner

/// Go build information in binaries: Go ≥ 1.18 inline format and the older pointer format (ELF).
final class PackageGoBinaryTests: XCTestCase {
    static let start: [UInt8] = [0x30, 0x77, 0xAF, 0x0C, 0x92, 0x74, 0x08, 0x02, 0x41, 0xE1, 0xC1, 0x07, 0xE6, 0xD6, 0x18, 0xE6]
    static let end: [UInt8] = [0xF9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xD8, 0xF2]
    static let modText = """
        path\texample.com/fn
        mod\texample.com/fn\t(devel)\t
        dep\tgithub.com/aws/aws-lambda-go\tv1.41.0\th1:abc=
        dep\tgolang.org/x/text\tv0.3.6\th1:def=
        dep\tgithub.com/old/x\tv1.0.0\th1:x=
        =>\tgithub.com/new/x\tv1.1.0\th1:y=
        dep\texample.com/local\tv0.0.0
        =>\t../local\t\t
        build\t-compiler=gc

        """
    static var modInfo: [UInt8] { start + Array(modText.utf8) + end }
    static let expected = ["Go/github.com/aws/aws-lambda-go@v1.41.0", "Go/github.com/new/x@v1.1.0",
                           "Go/golang.org/x/text@v0.3.6", "Go/stdlib@1.20.5"]

    static func varint(_ n: Int) -> [UInt8] {
        var n = n, out: [UInt8] = []
        while n >= 0x80 { out.append(UInt8(n & 0x7F) | 0x80); n >>= 7 }
        return out + [UInt8(n)]
    }
    static func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static let magic: [UInt8] = [0xFF] + Array(" Go buildinf:".utf8)

    /// An ELF-looking file with the Go ≥ 1.18 inline blob at a 16-byte aligned offset.
    static func inlineBinary(truncateBy: Int = 0) -> [UInt8] {
        var b: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1] + [UInt8](repeating: 0x90, count: 4089)
        let version = Array("go1.20.5".utf8)
        var blob = magic + [8, 2]
        blob += [UInt8](repeating: 0, count: 32 - blob.count)
        blob += varint(version.count) + version + varint(modInfo.count) + modInfo
        b += blob
        b += [UInt8](repeating: 0xCC, count: 512)
        return Array(b.dropLast(truncateBy == 0 ? 0 : 512 + truncateBy))
    }

    /// A minimal ELF64 little-endian file with one PT_LOAD segment and the pre-1.18 pointer blob.
    static func pointerBinary() -> [UInt8] {
        let base = 0x400000
        let version = Array("go1.16.15".utf8)
        let mod = modInfo
        let total = 192 + version.count + mod.count
        var b = [UInt8](repeating: 0, count: 64)
        b[0...6] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1]
        b.replaceSubrange(0x20..<0x28, with: le64(64))
        b[0x36] = 56; b[0x38] = 1
        var ph = [UInt8](repeating: 0, count: 56)
        ph[0] = 1
        ph.replaceSubrange(8..<16, with: le64(0))
        ph.replaceSubrange(16..<24, with: le64(base))
        ph.replaceSubrange(32..<40, with: le64(total))
        b += ph                                                   // now 120 bytes
        b += [UInt8](repeating: 0, count: 128 - b.count)
        var hdr = magic + [8, 0]
        hdr += le64(base + 160) + le64(base + 176)
        b += hdr                                                  // 128..<160
        b += le64(base + 192) + le64(version.count)               // 160..<176
        b += le64(base + 192 + version.count) + le64(mod.count)   // 176..<192
        b += version + mod
        return b
    }

    func catalog(_ bytes: [UInt8], path: String = "bootstrap") -> CatalogResult {
        let c = GoBinaryCataloger()
        XCTAssertTrue(c.accepts(path: path, header: Array(bytes.prefix(64))))
        return c.packages(in: ScanEntry(path: path, size: bytes.count, bytes: bytes))
    }
    func ids(_ r: CatalogResult) -> [String] { r.packages.map { "\($0.ecosystem)/\($0.name)@\($0.version)" }.sorted() }

    func testInlineBuildInfo() {
        let r = catalog(Self.inlineBinary())
        XCTAssertEqual(ids(r), Self.expected)
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(r.packages.first?.locations, ["bootstrap"])
    }

    func testPointerBuildInfoThroughELFSegments() {
        let r = catalog(Self.pointerBinary())
        XCTAssertEqual(ids(r), Self.expected.map { $0 == "Go/stdlib@1.20.5" ? "Go/stdlib@1.16.15" : $0 }.sorted())
    }

    func testTruncatedBlobIsAProblemAndPlainELFIsNothing() {
        let bad = catalog(Self.inlineBinary(truncateBy: 40))
        XCTAssertTrue(bad.packages.isEmpty)
        XCTAssertTrue(bad.problems.first?.message.contains("bootstrap") ?? false)
        XCTAssertEqual(bad.problems.first?.kind, .inputError)
        let plain = catalog([0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 1, count: 1000))
        XCTAssertTrue(plain.packages.isEmpty && plain.problems.isEmpty)
        XCTAssertFalse(GoBinaryCataloger().accepts(path: "x.py", header: Array("#!/usr/bin/env python".utf8)))
    }

    func testCorruptedBinariesNeverCrash() {
        // Flip random bytes in both layouts (headers, pointers, lengths, varints) many times.
        var rng = SystemRandomNumberGenerator()
        for original in [Self.pointerBinary(), Self.inlineBinary()] {
            for _ in 0..<3000 {
                var b = original
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    b[Int.random(in: 0..<min(b.count, 4200), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                _ = GoBinaryCataloger().packages(in: ScanEntry(path: "bootstrap", size: b.count, bytes: b))
            }
        }
    }

    func testGoBinaryMatchesAdvisory() throws {
        let db = try AdvisoryDatabase.open(paths: [try AdvisoryFixtures.osvDirectory()])
        let findings = db.findings(for: catalog(Self.inlineBinary(), path: "fn.zip!/bootstrap").packages)
        XCTAssertEqual(findings.map(\.ruleID), ["GHSA-ppp9-7jff-5vj2"])
        XCTAssertEqual(findings.first?.location?.path, "fn.zip!/bootstrap")
    }
}
