import Foundation
import KitsunePolicyCore
import XCTest

/// Test fixtures: a deployed "package" directory with a helper binary, a world-writable directory
/// standing in for /tmp, and payloads dropped there — and a runner that starts the real
/// `kitsune-enforcer` binary, as the unprivileged user `nobody` when the tests run as root (like a
/// Lambda function), capturing its output and its JSON events.
/// A tool a test needs is missing: a skip on a developer's machine, a failure under scripts/test
/// (`KITSUNE_TESTS_STRICT=1`), whose scripts/setup installs every tool — a skip there would hide a
/// broken setup.
func toolMissing(_ message: String, file: StaticString = #filePath, line: UInt = #line) -> XCTSkip {
    if ProcessInfo.processInfo.environment["KITSUNE_TESTS_STRICT"] == "1" { XCTFail(message, file: file, line: line) }
    return XCTSkip(message)
}

final class EnforcerFixture: @unchecked Sendable {
    static let shared: EnforcerFixture = {
        do { return try EnforcerFixture() } catch { fatalError("cannot set up enforcer fixtures: \(error)") }
    }()

    let root: URL
    let package: URL
    let writable: URL
    let enforcer: String
    let attack: String          // packaged helper performing one attack technique
    let tool: String            // packaged legitimate program (prints PAYLOAD RAN)
    let payload: String         // dropped program in the writable dir
    let payloadLibrary: String  // dropped shared object in the writable dir
    let loader = "/lib64/ld-linux-x86-64.so.2"
    let unprivileged: Bool

    init() throws {
        let fm = FileManager.default
        root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kitsune-enforcer-tests-\(getpid())")
        try? fm.removeItem(at: root)
        FixtureCleanup.removeAtEnd(root)
        package = root.appendingPathComponent("task")
        writable = root.appendingPathComponent("tmp")
        try fm.createDirectory(at: package.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try fm.createDirectory(at: writable, withIntermediateDirectories: true)
        chmod(root.path, 0o755)
        chmod(package.path, 0o755)
        chmod(package.appendingPathComponent("bin").path, 0o755)
        chmod(writable.path, 0o1777)
        enforcer = try Self.builtProduct("kitsune-enforcer")
        let fixtures = try Self.fixturesDirectory()
        attack = package.appendingPathComponent("bin/attack").path
        tool = package.appendingPathComponent("bin/tool").path
        payload = writable.appendingPathComponent("payload").path
        payloadLibrary = writable.appendingPathComponent("payload.so").path
        try Self.compile([fixtures.appendingPathComponent("attack.c").path, "-o", attack])
        try Self.compile([fixtures.appendingPathComponent("payload.c").path, "-o", tool])
        try Self.compile([fixtures.appendingPathComponent("payload.c").path, "-o", payload])
        try Self.compile(["-shared", "-fPIC", "-DAS_LIBRARY", fixtures.appendingPathComponent("payload.c").path, "-o", payloadLibrary])
        for f in [attack, tool, payload, payloadLibrary] { chmod(f, 0o755) }
        unprivileged = getuid() == 0
    }

    /// `$KITSUNE_BUILD_DIR/NAME`, else a product built next to the test bundle (`.build/debug/NAME`).
    /// With `KITSUNE_BUILD_DIR` set, `kitsune-enforcer` is taken from there only (scripts/test runs
    /// these tests again with the musl build there: a silent fallback would test the other one).
    static func builtProduct(_ name: String) throws -> String {
        var dirs: [URL] = []
        if let d = ProcessInfo.processInfo.environment["KITSUNE_BUILD_DIR"] {
            let candidate = URL(fileURLWithPath: d).appendingPathComponent(name).path
            if name == "kitsune-enforcer" && !FileManager.default.isExecutableFile(atPath: candidate) {
                throw FixtureError("KITSUNE_BUILD_DIR=\(d) has no kitsune-enforcer")
            }
            dirs.append(URL(fileURLWithPath: d))
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 { dirs.append(dir); dir = dir.deletingLastPathComponent() }
        for d in dirs {
            let candidate = d.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw FixtureError("\(name) not found near \(exe.path); build it first (swift build)")
    }

    static func fixturesDirectory() throws -> URL {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        if FileManager.default.fileExists(atPath: here.appendingPathComponent("attack.c").path) { return here }
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url }
        throw FixtureError("Fixtures directory not found")
    }

    /// Compile a C fixture with the system C compiler (cc) or the toolchain's clang.
    static func compile(_ args: [String]) throws {
        for compiler in ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"] + toolchainClang() where FileManager.default.isExecutableFile(atPath: compiler) {
            let r = try run([compiler] + args, timeout: 120)
            guard r.status == 0 else { throw FixtureError("compiling \(args) failed: \(r.stderr)") }
            return
        }
        throw FixtureError("no C compiler found (install gcc)")
    }

    static func toolchainClang() -> [String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/clang" }
    }

    /// Copy a file into the package (or anywhere) with mode 0755.
    func install(_ source: String, as destination: String, mode: Int = 0o755) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: destination)
        try fm.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try fm.copyItem(atPath: source, toPath: destination)
        chmod(destination, mode_t(mode))
    }

    func write(_ text: String, to path: String, mode: Int = 0o755) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode_t(mode))
    }

    /// Run `kitsune-enforcer OPTIONS -- COMMAND` and collect everything. The command starts in `cwd`,
    /// by default the package directory (Lambda starts the runtime in /var/task).
    func enforce(_ options: [String], _ command: [String], mode: String = "enforce", environment: [String: String] = [:],
                 stdin: String? = nil, cwd: String? = nil, timeout: TimeInterval = 30) throws -> EnforcedRun {
        let events = writable.appendingPathComponent("events-\(UUID().uuidString).jsonl").path
        var args = [enforcer, "--mode", mode, "--events", events, "--package", package.path] + options + ["--"] + command
        if unprivileged { args = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + args }
        let r = try Self.run(args, environment: environment, stdin: stdin, cwd: cwd ?? package.path, timeout: timeout)
        let lines = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: events)
        let parsed = try lines.split(separator: "\n").map { line -> [String: Any] in
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw FixtureError("event is not a JSON object: \(line)")
            }
            return obj
        }
        return EnforcedRun(status: r.status, stdout: r.stdout, stderr: r.stderr, events: parsed)
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Run a process to completion with output captured in files (no pipe deadlocks), bounded in time.
    static func run(_ args: [String], environment: [String: String] = [:], stdin: String? = nil, cwd: String? = nil,
                    timeout: TimeInterval = 30) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("kout-\(UUID().uuidString)"), err = dir.appendingPathComponent("kerr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        let input = Pipe()
        p.standardInput = input
        try p.run()
        // The child may exit before reading its input (a usage error): a broken pipe is not a failure.
        signal(SIGPIPE, SIG_IGN)
        if let s = stdin { try? input.fileHandleForWriting.write(contentsOf: Data(s.utf8)) }
        try? input.fileHandleForWriting.close()
        // Reaped with waitpid, not Foundation's monitoring (which can miss an exit and then hang).
        let status = reap(p, timeout: timeout)
        if status == -2 {
            _ = reap(p, timeout: 5)
            throw FixtureError("timed out after \(timeout)s: \(args.joined(separator: " "))")
        }
        return Output(status: status,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Wait (bounded) for a process started with `Process` and return its exit code (128+signal when
    /// killed). Reaps it ourselves: Foundation's own reaping is not reliable for a killed child here.
    static func reap(_ process: Process, timeout: TimeInterval = 20) -> Int32 {
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            if r < 0 {          // Foundation reaped it first
                process.waitUntilExit()
                return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            }
            usleep(5000)
        }
        kill(pid, SIGKILL)
        return -2
    }

    /// Assert that an executable is fully static: no program interpreter (PT_INTERP), no dynamic
    /// section (PT_DYNAMIC), so it has no glibc version requirement.
    static func assertFullyStatic(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(data[0..<4]), [0x7F, 0x45, 0x4C, 0x46], file: file, line: line)
        func u16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
        func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(data[o + $1]) << (8 * $1) } }
        let phoff = u64(32), size = u16(54), count = u16(56)
        let types = (0..<count).map { u16(phoff + $0 * size) }
        XCTAssertFalse(types.contains(3), "PT_INTERP present: dynamically linked", file: file, line: line)
        XCTAssertFalse(types.contains(2), "PT_DYNAMIC present: dynamically linked", file: file, line: line)
    }

    /// SHA-256 of a file, hex.
    func sha256(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: hexBytes(SHA256.hash([UInt8](data))), as: UTF8.self)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The outcome of one enforced run.
struct EnforcedRun {
    let status: Int32
    let stdout: String
    let stderr: String
    let events: [[String: Any]]

    var started: [String: Any]? { events.first { $0["action"] as? String == "started" } }
    /// `blocked` and `reported` events (and any other that is neither `started` nor learn mode's `observed`).
    var decisions: [[String: Any]] { events.filter { $0["action"] as? String != "started" && $0["action"] as? String != "observed" } }

    /// Decisions with this reason.
    func decisions(_ reason: String) -> [[String: Any]] { decisions.filter { $0["reason"] as? String == reason } }

    func control(_ name: String) -> String? { (started?["controls"] as? [String: Any])?[name] as? String }
}
