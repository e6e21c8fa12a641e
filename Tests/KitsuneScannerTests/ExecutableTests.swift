import Foundation
import XCTest
@testable import KitsuneScanner
import KitsuneFindings
import KitsunePolicy

final class ExecutableTests: XCTestCase {
    /// A minimal 64-bit little-endian ELF header with one PT_LOAD program header (static) or a PT_INTERP too.
    static func elf(machine: UInt16, interpreter: String?) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 64)
        b[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        b[4] = 2; b[5] = 1; b[6] = 1
        b[16] = 2                                   // ET_EXEC
        b[18] = UInt8(machine & 0xFF); b[19] = UInt8(machine >> 8)
        b[32] = 64                                  // e_phoff
        b[52] = 64                                  // e_ehsize
        b[54] = 56                                  // e_phentsize
        let count = interpreter == nil ? 1 : 2
        b[56] = UInt8(count)
        var headers: [UInt8] = []
        var load = [UInt8](repeating: 0, count: 56)
        load[0] = 1                                 // PT_LOAD
        headers += load
        var tail: [UInt8] = []
        if let interpreter {
            var interp = [UInt8](repeating: 0, count: 56)
            interp[0] = 3                           // PT_INTERP
            let offset = 64 + 56 * 2
            interp[8] = UInt8(offset)
            interp[32] = UInt8(interpreter.utf8.count + 1)
            headers += interp
            tail = Array(interpreter.utf8) + [0]
        }
        return b + headers + tail + [UInt8](repeating: 0x90, count: 200)
    }

    func testFormatDetectionOfELFMachOAndScripts() throws {
        let staticELF = try XCTUnwrap(ExecutableFormat.detect(Self.elf(machine: 0xB7, interpreter: nil)))
        XCTAssertEqual(staticELF, ExecutableFormat(format: .elf, arch: "aarch64", linkage: "static"))
        let dynamicELF = try XCTUnwrap(ExecutableFormat.detect(Self.elf(machine: 0x3E, interpreter: "/lib64/ld-linux-x86-64.so.2")))
        XCTAssertEqual(dynamicELF.arch, "x86_64")
        XCTAssertEqual(dynamicELF.linkage, "dynamic")
        XCTAssertEqual(dynamicELF.interpreter, "/lib64/ld-linux-x86-64.so.2")
        // The real system binary is dynamic too.
        let trueBinary = try Array(Data(contentsOf: URL(fileURLWithPath: "/bin/true")).prefix(65536))
        XCTAssertEqual(ExecutableFormat.detect(trueBinary)?.linkage, "dynamic")

        // Mach-O arm64 with LC_LOAD_DYLINKER.
        var macho: [UInt8] = [0xCF, 0xFA, 0xED, 0xFE, 0x0C, 0x00, 0x00, 0x01] + [UInt8](repeating: 0, count: 24)
        macho[16] = 1                                // ncmds
        macho += [0x0E, 0, 0, 0, 16, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(ExecutableFormat.detect(macho), ExecutableFormat(format: .macho, arch: "arm64", linkage: "dynamic"))
        // A Java class file shares the fat Mach-O magic but is not executable content.
        XCTAssertNil(ExecutableFormat.detect([0xCA, 0xFE, 0xBA, 0xBE, 0x00, 0x00, 0x00, 0x34] + [UInt8](repeating: 0, count: 40)))

        XCTAssertEqual(ExecutableFormat.detect(Array("#!/usr/bin/env python3\nprint(1)\n".utf8))?.interpreter, "/usr/bin/env python3")
        XCTAssertNil(ExecutableFormat.detect(Array("#![allow(dead_code)]\nfn main() {}".utf8)))
        // Truncated and hostile headers never trap.
        for length in 0..<80 { _ = ExecutableFormat.detect(Array(Self.elf(machine: 0x3E, interpreter: "/x").prefix(length))) }
        var hostile = Self.elf(machine: 0x3E, interpreter: nil)
        hostile[32] = 0xFF; hostile[33] = 0xFF; hostile[56] = 0xFF
        XCTAssertEqual(ExecutableFormat.detect(hostile)?.linkage, nil)
    }

    func testInventoryForbiddenExecutablesAndManifestRoundTrip() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
        try ScanTestSupport.writeZip([
            .init("bootstrap", bytes: Self.elf(machine: 0x3E, interpreter: nil), mode: 0o755),
            .init("bin/kdevtmpfsi", bytes: Self.elf(machine: 0x3E, interpreter: "/lib64/ld-linux-x86-64.so.2"), mode: 0o755),
            .init("bin/start.sh", "#!/bin/sh\n./worker -o stratum+tcp://pool.example.net:3333\n", mode: 0o755),
            .init("bin/tool", "plain text but executable\n", mode: 0o755),
            .init("eicar.com", eicar),
            .init("lib/native.jar", bytes: try Self.nestedJar(dir)),
            .init("app.py", "print('hello')\n"),
        ], to: dir + "/fn.zip")
        let result = try ScanTestSupport.scanner().scan(path: dir + "/fn.zip")

        XCTAssertEqual(result.executables.map(\.path), ["bin/kdevtmpfsi", "bin/start.sh", "bootstrap", "lib/native.jar!/lib/helper.sh"])
        let bootstrap = try XCTUnwrap(result.executables.first { $0.path == "bootstrap" })
        XCTAssertEqual(bootstrap.format, "elf")
        XCTAssertEqual(bootstrap.arch, "x86_64")
        XCTAssertEqual(bootstrap.linkage, "static")
        XCTAssertEqual(bootstrap.mode, "0755")
        XCTAssertEqual(result.executables.first { $0.path == "bin/start.sh" }?.interpreter, "/bin/sh")

        XCTAssertEqual(result.findings(rule: "executable/forbidden-name").map { $0.location?.path }, ["bin/kdevtmpfsi"])
        XCTAssertEqual(result.findings(rule: "executable/forbidden-name").first?.severity, .critical)
        XCTAssertEqual(result.findings(rule: "executable/miner-indicator").map { $0.location?.path }, ["bin/start.sh"])
        XCTAssertTrue(result.findings(rule: "executable/forbidden-sha256").isEmpty) // EICAR has no exec bit: not hashed
        let viaList = ForbiddenList(sha256: [.init(sha256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", reason: "EICAR")])
        try ScanTestSupport.write(eicar, to: dir + "/d/eicar.com", mode: 0o755)
        let scanner = FunctionScanner(secretRules: try .builtIn(), forbidden: viaList, archiveTypes: try .builtIn(), catalogers: [], matcher: nil)
        XCTAssertEqual(try scanner.scan(path: dir + "/d").findings(rule: "executable/forbidden-sha256").count, 1)

        // The drift manifest: top-level files only, independent SHA-256, round trip through JSON.
        let manifest = result.manifest
        XCTAssertEqual(manifest.root, "/var/task")
        XCTAssertEqual(manifest.files.map(\.path), ["bin/kdevtmpfsi", "bin/start.sh", "bin/tool", "bootstrap"])
        XCTAssertEqual(manifest.files.map(\.kind), [.elf, .script, .other, .elf])
        let decoded = try JSONDecoder().decode(Manifest.self, from: manifest.jsonData())
        XCTAssertEqual(decoded, manifest)
        try Data(Self.elf(machine: 0x3E, interpreter: nil)).write(to: URL(fileURLWithPath: dir + "/bootstrap.bin"))
        let sum = try ScanTestSupport.run("/usr/bin/sha256sum", [dir + "/bootstrap.bin"]).prefix(64)
        XCTAssertEqual(manifest.files.first { $0.path == "bootstrap" }?.sha256, String(sum))
    }

    private static func nestedJar(_ dir: String) throws -> [UInt8] {
        try ScanTestSupport.writeZip([.init("lib/helper.sh", "#!/bin/bash\necho hi\n", mode: 0o755)], to: dir + "/native.jar")
        return try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/native.jar")))
    }
}
