import Foundation
import XCTest
@testable import KitsuneLambda

/// One layer per Lambda architecture: the binaries in it must be built for the architecture asked for
/// (a Graviton function given an x86_64 enforcer fails every init), read from their ELF header.
final class LayerArchitectureTests: LambdaTestCase {
    /// A file with a 64-bit little-endian ELF header for `machine` (enough for the checks; not runnable).
    static func elf(machine: UInt16, at url: URL, classByte: UInt8 = 2) throws {
        var header = [UInt8](repeating: 0, count: 64)
        header[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        header[4] = classByte
        header[5] = 1
        header[18] = UInt8(machine & 0xFF)
        header[19] = UInt8(machine >> 8)
        try Data(header).write(to: url)
        chmod(url.path, 0o755)
    }

    func testELFMachineIsReadAndNamed() throws {
        let dir = try Fixture.temporaryDirectory()
        for (machine, arch) in [(UInt16(62), LayerArchitecture.x86_64), (183, .arm64)] {
            let f = dir.appendingPathComponent("m\(machine)")
            try Self.elf(machine: machine, at: f)
            XCTAssertEqual(LayerArchitecture.of(elf: try Data(contentsOf: f)), arch)
        }
        let arm32 = dir.appendingPathComponent("arm32")
        try Self.elf(machine: 40, at: arm32, classByte: 1)
        XCTAssertNil(LayerArchitecture.of(elf: try Data(contentsOf: arm32)))
        XCTAssertEqual(LayerArchitecture.describe(try Data(contentsOf: arm32)), "not a 64-bit little-endian ELF")
        XCTAssertEqual(LayerArchitecture.describe(Data("#!/bin/sh\n".utf8)), "not an ELF executable")
        XCTAssertEqual(LayerArchitecture.of(elf: try Data(contentsOf: try Fixture.enforcerBinary())), .host)
        XCTAssertEqual(LayerArchitecture(name: "aarch64"), .arm64)
        XCTAssertEqual(LayerArchitecture(name: "AMD64"), .x86_64)
        XCTAssertNil(LayerArchitecture(name: "sparc"))
    }

    /// An arm64 layer takes the arm64 enforcer and kitsune-ship; a custom policy is still validated
    /// (by the host's enforcer: the arm64 one does not run here); mismatches are refused by name.
    func testArm64LayerAndMismatches() throws {
        let dir = try Fixture.temporaryDirectory()
        let enforcer = dir.appendingPathComponent("kitsune-enforcer")
        try Self.elf(machine: 183, at: enforcer)
        let entries = try LayerBuilder.entries(enforcer: enforcer, policy: nil, architecture: .arm64)
        XCTAssertEqual(entries.map(\.path), ["kitsune/bin/kitsune-enforcer", "kitsune/policy.yaml", "kitsune/wrapper"])
        XCTAssertEqual(entries[0].data, try Data(contentsOf: enforcer))

        XCTAssertThrowsError(try LayerBuilder.entries(enforcer: enforcer, policy: nil, architecture: .x86_64)) {
            XCTAssertTrue("\($0)".contains("kitsune-enforcer is arm64, but the layer is for x86_64"), "\($0)")
        }
        XCTAssertThrowsError(try LayerBuilder.entries(enforcer: try Fixture.enforcerBinary(), policy: nil, architecture: .arm64)) {
            XCTAssertTrue("\($0)".contains("is x86_64, but the layer is for arm64"), "\($0)")
        }
        // kitsune-ship beside it must be of the same architecture.
        try Self.elf(machine: 62, at: dir.appendingPathComponent("kitsune-ship"))
        XCTAssertThrowsError(try LayerBuilder.entries(enforcer: enforcer, policy: nil, architecture: .arm64)) {
            XCTAssertTrue("\($0)".contains("kitsune-ship is x86_64, but the enforcer beside it is arm64"), "\($0)")
        }
        try Self.elf(machine: 183, at: dir.appendingPathComponent("kitsune-ship"))
        XCTAssertEqual(try LayerBuilder.entries(enforcer: enforcer, policy: nil, architecture: .arm64).count, 4)

        let policy = dir.appendingPathComponent("policy.yaml")
        try "version: 1\nmode: audit\n".write(to: policy, atomically: true, encoding: .utf8)
        XCTAssertEqual(try LayerBuilder.entries(enforcer: enforcer, policy: policy, architecture: .arm64)[2].data, try Data(contentsOf: policy))
        try "version: 1\nmode: strict\n".write(to: policy, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LayerBuilder.entries(enforcer: enforcer, policy: policy, architecture: .arm64)) {
            XCTAssertTrue("\($0)".contains("field `mode`"), "\($0)")
        }
        let arm32 = dir.appendingPathComponent("arm32")
        try Self.elf(machine: 40, at: arm32, classByte: 1)
        XCTAssertThrowsError(try LayerBuilder.entries(enforcer: arm32, policy: nil)) {
            XCTAssertTrue("\($0)".contains("not a 64-bit little-endian ELF, not x86_64 or arm64"), "\($0)")
        }
    }

    /// Where the enforcer for an architecture is looked up: --enforcer, KITSUNE_ENFORCER, beside kitsune,
    /// aarch64/ beside it, and .build/aarch64 for a kitsune inside a SwiftPM build directory.
    func testEnforcerLookup() throws {
        let root = try Fixture.temporaryDirectory()
        let release = root.appendingPathComponent(".build/x86_64-unknown-linux-gnu/release")
        let cross = root.appendingPathComponent(".build/aarch64")
        try FileManager.default.createDirectory(at: release, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: cross, withIntermediateDirectories: true)
        try Self.elf(machine: 62, at: release.appendingPathComponent("kitsune-enforcer"))
        let lookup = { (arch: LayerArchitecture, explicit: String?, env: [String: String]) in
            try LayerBinaries.enforcer(for: arch, explicit: explicit, environment: env, kitsuneDirectory: release).path
        }
        XCTAssertEqual(try lookup(.x86_64, nil, [:]), release.appendingPathComponent("kitsune-enforcer").path)
        XCTAssertThrowsError(try lookup(.arm64, nil, [:])) {
            XCTAssertTrue("\($0)".contains("no arm64 kitsune-enforcer found; found only \(release.path)/kitsune-enforcer (x86_64)"), "\($0)")
            XCTAssertTrue("\($0)".contains("scripts/build-arm64"), "\($0)")
        }
        try Self.elf(machine: 183, at: cross.appendingPathComponent("kitsune-enforcer"))
        XCTAssertEqual(try lookup(.arm64, nil, [:]), cross.appendingPathComponent("kitsune-enforcer").path)
        // Explicit paths must match: no silent fallback to another binary.
        let x86 = release.appendingPathComponent("kitsune-enforcer").path
        XCTAssertThrowsError(try lookup(.arm64, x86, [:])) {
            XCTAssertTrue("\($0)".contains("\(x86): kitsune-enforcer is x86_64, but the layer is for arm64 (pass --architecture x86_64"), "\($0)")
        }
        XCTAssertThrowsError(try lookup(.arm64, nil, ["KITSUNE_ENFORCER": x86]))
        XCTAssertThrowsError(try lookup(.x86_64, "/nonexistent/kitsune-enforcer", [:])) {
            XCTAssertTrue("\($0)".contains("/nonexistent/kitsune-enforcer: cannot read kitsune-enforcer"), "\($0)")
        }
    }

    /// `kitsune protect`: a native bootstrap picks (or must match) the enforcer's architecture.
    func testProtectMatchesTheBootstrapsArchitecture() throws {
        let dir = try Fixture.temporaryDirectory()
        let package = dir.appendingPathComponent("package")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        try Self.elf(machine: 183, at: package.appendingPathComponent("bootstrap"))
        let zip = try Fixture.zip(package)
        XCTAssertEqual(try FunctionProtector.bootstrapArchitecture(zip: zip.path), .arm64)
        XCTAssertThrowsError(try FunctionProtector.protect(zip: zip.path, enforcer: try Fixture.enforcerBinary(), policy: nil)) {
            XCTAssertTrue("\($0)".contains("bootstrap is an arm64 program but kitsune-enforcer"), "\($0)")
            XCTAssertTrue("\($0)".contains("--architecture arm64"), "\($0)")
        }
        let arm = dir.appendingPathComponent("bin/kitsune-enforcer")
        try FileManager.default.createDirectory(at: arm.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.elf(machine: 183, at: arm)
        let protected = try FunctionProtector.protect(zip: zip.path, enforcer: arm, policy: nil, architecture: .arm64)
        XCTAssertGreaterThan(protected.count, 0)
        let out = dir.appendingPathComponent("protected.zip")
        try protected.write(to: out)
        let listing = try Fixture.run(["/usr/bin/python3", "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.read('.kitsune/kitsune-enforcer')[18])", out.path], tool: "python3")
        XCTAssertEqual(listing.trimmingCharacters(in: .whitespacesAndNewlines), "183")

        try "#!/bin/sh\nexec ./app\n".write(to: package.appendingPathComponent("bootstrap"), atomically: true, encoding: .utf8)
        XCTAssertNil(try FunctionProtector.bootstrapArchitecture(zip: try Fixture.zip(package).path), "a script runs on either")
    }

    /// The command line: `kitsune layer build --architecture arm64 --enforcer PATH`, its refusals, and
    /// `kitsune protect` picking the bootstrap's architecture.
    func testCommandLine() throws {
        let bundle = Bundle(for: Self.self).bundleURL
        guard let kitsune = [bundle.appendingPathComponent("kitsune"), bundle.deletingLastPathComponent().appendingPathComponent("kitsune")]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestToolMissing(message: "the kitsune binary is not built next to the tests")
        }
        func run(_ args: [String]) throws -> (status: Int32, output: String) {
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "KITSUNE_ENFORCER")
            return try Fixture.execute([kitsune.path] + args, environment: env)
        }
        let dir = try Fixture.temporaryDirectory()
        let arm = dir.appendingPathComponent("arm/kitsune-enforcer")
        try FileManager.default.createDirectory(at: arm.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.elf(machine: 183, at: arm)
        let zip = dir.appendingPathComponent("layer.zip").path
        let built = try run(["layer", "build", "--architecture", "arm64", "--enforcer", arm.path, "-o", zip])
        XCTAssertEqual(built.status, 0, built.output)
        XCTAssertTrue(built.output.contains("arm64 layer written to \(zip); publish it with --compatible-architectures arm64"), built.output)

        let wrong = try run(["layer", "build", "--architecture", "x86_64", "--enforcer", arm.path, "-o", dir.appendingPathComponent("x.zip").path])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.output.contains("kitsune-enforcer is arm64, but the layer is for x86_64 (pass --architecture arm64"), wrong.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.zip").path), "nothing half-written")
        let unknown = try run(["layer", "build", "--architecture", "sparc64", "-o", dir.appendingPathComponent("y.zip").path])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("sparc64"), unknown.output)

        // protect: an arm64 bootstrap without --architecture needs the arm64 enforcer.
        let package = dir.appendingPathComponent("package")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        try Self.elf(machine: 183, at: package.appendingPathComponent("bootstrap"))
        let function = try Fixture.zip(package).path
        let picked = try run(["protect", function, "-o", dir.appendingPathComponent("p.zip").path, "--enforcer", arm.path])
        XCTAssertEqual(picked.status, 0, picked.output)
        XCTAssertTrue(picked.output.contains("protected arm64 function"), picked.output)
        let mismatch = try run(["protect", function, "-o", dir.appendingPathComponent("q.zip").path, "--architecture", "x86_64"])
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.output.contains("bootstrap is an arm64 program"), mismatch.output)
    }
}
