import Foundation
import XCTest
import KitsuneFindings
@testable import KitsuneScanner

/// `kitsune db update` against a real HTTP server on 127.0.0.1 (python3 -m http.server) serving
/// osv.dev's layout `<BASE>/<ECOSYSTEM>/all.zip`.
final class AdvisoryUpdateTests: XCTestCase {
    func testUpdateDownloadsAndImportsFromLocalServer() async throws {
        let python = try AdvisoryFixtures.python3()
        let root = try AdvisoryFixtures.temporaryDirectory("srv")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixtures = try AdvisoryFixtures.osvDirectory()
        try FileManager.default.createDirectory(atPath: root + "/www/npm", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/www/crates.io", withIntermediateDirectories: true)
        let zipper = """
            import sys, zipfile
            out, files = sys.argv[1], sys.argv[2:]
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for f in files:
                    z.write(f, arcname=f.rsplit("/", 1)[-1])
            """
        let (s1, o1) = try AdvisoryFixtures.run(python, ["-c", zipper, root + "/www/npm/all.zip",
                                                         fixtures + "/GHSA-35jh-r3h4-6jhm.json", fixtures + "/GHSA-withdrawn-lodash.json"])
        XCTAssertEqual(s1, 0, o1)
        let (s2, o2) = try AdvisoryFixtures.run(python, ["-c", zipper, root + "/www/crates.io/all.zip", fixtures + "/RUSTSEC-2021-0003.json"])
        XCTAssertEqual(s2, 0, o2)

        // The server's banner goes to a log file polled here (no blocking pipe reads in async code).
        let log = root + "/server.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root + "/www"]
        server.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: a child spawned from the test runner may inherit a blocked SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        var banner = ""
        let deadline = Date().addingTimeInterval(15)
        while !banner.contains(" port "), Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            banner = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        let port = try XCTUnwrap(banner.components(separatedBy: " port ").dropFirst().first?.prefix { $0.isNumber }, "server banner: \(banner)")
        let base = "http://127.0.0.1:\(port)"

        let db = root + "/db"
        let reports = try await AdvisoryDownloader(base: base, timeout: 20).update(ecosystems: ["npm", "crates.io"], into: db)
        XCTAssertEqual(reports.map(\.ecosystem), ["npm", "crates.io"])
        XCTAssertEqual(reports.map(\.advisories), [1, 1])
        XCTAssertEqual(reports.first?.url, "\(base)/npm/all.zip")
        let opened = try AdvisoryDatabase.open(paths: [db])
        XCTAssertEqual(opened.ecosystems, ["crates.io", "npm"])
        let f = opened.findings(for: [AdvisoryFixtures.package("npm", "lodash", "4.17.20")])
        XCTAssertEqual(f.map(\.ruleID), ["GHSA-35jh-r3h4-6jhm"])

        // An ecosystem the server does not have: a clear error with the URL and status.
        do {
            _ = try await AdvisoryDownloader(base: base, timeout: 20).update(ecosystems: ["Maven"], into: db)
            XCTFail("expected a download error")
        } catch {
            XCTAssertTrue("\(error)".contains("\(base)/Maven/all.zip") && "\(error)".contains("404"), "\(error)")
        }
    }
}
