import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings

/// Helpers shared by the scanner tests: temporary directories, zips written by Python's zipfile (a
/// real, independent zip writer), the built `kitsune` binary.
enum ScanTestSupport {
    /// A fresh temporary directory, removed by the caller's `addTeardownBlock`.
    static func temporaryDirectory(_ test: XCTestCase) throws -> String {
        let path = NSTemporaryDirectory() + "kitsune-scan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    struct ZipItem {
        var name: String
        var data: [UInt8]
        var mode: Int = 0o644
        var deflate = true
        var symlink = false

        init(_ name: String, _ text: String, mode: Int = 0o644, deflate: Bool = true) {
            self.name = name
            self.data = Array(text.utf8)
            self.mode = mode
            self.deflate = deflate
        }

        init(_ name: String, bytes: [UInt8], mode: Int = 0o644, deflate: Bool = true, symlink: Bool = false) {
            self.name = name
            self.data = bytes
            self.mode = mode
            self.deflate = deflate
            self.symlink = symlink
        }
    }

    /// Writes a zip with Python's `zipfile` (Unix modes, stored or deflated, optional forced zip64).
    static func writeZip(_ items: [ZipItem], to path: String, zip64: Bool = false) throws {
        let spec = items.map { item -> [String: Any] in
            ["name": item.name, "data": Data(item.data).base64EncodedString(), "mode": item.mode,
             "deflate": item.deflate, "symlink": item.symlink]
        }
        let specPath = path + ".spec.json"
        try JSONSerialization.data(withJSONObject: ["items": spec, "zip64": zip64]).write(to: URL(fileURLWithPath: specPath))
        defer { try? FileManager.default.removeItem(atPath: specPath) }
        let script = """
        import base64, json, sys, zipfile
        spec = json.load(open(sys.argv[1]))
        with zipfile.ZipFile(sys.argv[2], "w", allowZip64=True) as z:
            for item in spec["items"]:
                info = zipfile.ZipInfo(item["name"], date_time=(2024, 1, 1, 0, 0, 0))
                info.create_system = 3
                kind = 0o120000 if item["symlink"] else 0o100000
                info.external_attr = ((kind | item["mode"]) << 16)
                info.compress_type = zipfile.ZIP_DEFLATED if item["deflate"] else zipfile.ZIP_STORED
                data = base64.b64decode(item["data"])
                with z.open(info, "w", force_zip64=spec["zip64"]) as f:
                    f.write(data)
        """
        try run("/usr/bin/env", ["python3", "-c", script, specPath, path])
    }

    /// Runs a tool; fails with its stderr when it exits non-zero or is missing.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ScanInputError(input: ([executable] + arguments).joined(separator: " ").prefix(200).description,
                                 reason: "exit \(process.terminationStatus): \(String(decoding: error, as: UTF8.self)) (python3 is required by these tests)")
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode_t(mode))
    }

    static func scanner(limits: ScanLimits = ScanLimits(), catalogers: [any PackageCataloger] = [],
                        matcher: (any VulnerabilityMatcher)? = nil) throws -> FunctionScanner {
        try FunctionScanner.builtIn(options: ScanOptions(limits: limits), catalogers: catalogers, matcher: matcher)
    }

    /// The `kitsune` binary built next to the test bundle.
    static func kitsuneBinary() throws -> String {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent()) }
        for dir in candidates {
            let path = dir.appendingPathComponent("kitsune").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw ScanInputError(input: "kitsune", reason: "the built kitsune binary was not found next to the test bundle (\(candidates.map(\.path)))")
    }

    /// Runs the built `kitsune` with `arguments`; returns the exit status, stdout and stderr.
    static func kitsune(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try kitsuneBinary())
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    /// Deterministic pseudo-random strings for fake (never real) credentials.
    struct FakeValues {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func string(_ count: Int, alphabet: String = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") -> String {
            let chars = Array(alphabet)
            return String((0..<count).map { _ in chars[Int(next() % UInt64(chars.count))] })
        }
    }
}

extension ScanResult {
    func findings(rule: String) -> [Finding] { findings.filter { $0.ruleID == rule } }
}
