import Foundation
import XCTest

/// The enforcer's per-architecture syscall table (Sources/KitsuneEnforcer/SyscallTable.swift) against
/// the kernel's own uapi headers of both architectures: a wrong number in a seccomp filter is a silent
/// bypass (the call it meant to watch goes through, another one is notified instead).
final class SyscallTableTests: XCTestCase {
    static let headers = [
        "x86_64": "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",          // linux-libc-dev
        "arm64": "/usr/aarch64-linux-gnu/include/asm-generic/unistd.h",     // libc6-dev-arm64-cross
    ]

    func testEveryNumberMatchesTheKernelHeadersOfItsArchitecture() throws {
        let source = try String(contentsOf: Self.tableFile, encoding: .utf8)
        var checked = 0
        for (arch, header) in Self.headers {
            guard FileManager.default.fileExists(atPath: header) else {
                if arch == "x86_64" { XCTFail("\(header) missing (linux-libc-dev)") }
                else { print("SyscallTableTests: \(header) missing (scripts/setup installs libc6-dev-arm64-cross); \(arch) not checked") }
                continue
            }
            let kernel = try Self.kernelNumbers(header)
            let table = Self.tableCases(source, arch: arch)
            XCTAssertGreaterThan(table.count, 15, "\(arch): table not found in SyscallTable.swift")
            for (name, nr) in table {
                XCTAssertEqual(kernel[name], nr, "\(arch): Syscall.\(name) is \(nr), the kernel's \(header) says \(kernel[name].map(String.init) ?? "absent")")
                checked += 1
            }
            XCTAssertEqual(Set(table.keys), Set(Self.tableCases(source, arch: "x86_64").keys), "\(arch) names the same calls as x86_64")
        }
        XCTAssertGreaterThan(checked, 15)
    }

    func testAuditArchitecturesAndELFMachines() throws {
        let source = try String(contentsOf: Self.tableFile, encoding: .utf8)
        // AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE (linux/audit.h, linux/elf-em.h).
        XCTAssertTrue(source.contains("static let auditArch: UInt32 = 0xC000_003E"))   // EM_X86_64 = 62
        XCTAssertTrue(source.contains("static let auditArch: UInt32 = 0xC000_00B7"))   // EM_AARCH64 = 183
        XCTAssertTrue(source.contains("static let elfMachine: UInt16 = 62"))
        XCTAssertTrue(source.contains("static let elfMachine: UInt16 = 183"))
        XCTAssertEqual(0xC000_0000 | 62, 0xC000_003E)
        XCTAssertEqual(0xC000_0000 | 183, 0xC000_00B7)
    }

    static var tableFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/KitsuneEnforcer/SyscallTable.swift")
    }

    /// `#define __NR_name N` (and asm-generic's `#define __NR3264_mmap 222` for mmap).
    static func kernelNumbers(_ header: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for line in try String(contentsOfFile: header, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 3, parts[0] == "#define", let n = Int(parts[2]) else { continue }
            for prefix in ["__NR3264_", "__NR_"] where parts[1].hasPrefix(prefix) {
                out[String(parts[1].dropFirst(prefix.count))] = n
                break
            }
        }
        return out
    }

    /// The `case name = N` entries of the `enum Syscall` block for `arch`.
    static func tableCases(_ source: String, arch: String) -> [String: Int] {
        guard let start = source.range(of: "enum Syscall: Int32 {") else { return [:] }
        let body = source[start.upperBound...]
        guard let open = body.range(of: "arch(\(arch))") else { return [:] }
        let rest = body[open.upperBound...]
        let end = rest.range(of: "#e").map(\.lowerBound) ?? rest.endIndex
        var out: [String: Int] = [:]
        let text = rest[..<end].replacingOccurrences(of: "case", with: "")
        for item in text.split(whereSeparator: { $0 == "," || $0 == "\n" }) {
            let kv = item.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, let n = Int(kv[1]) { out[kv[0]] = n }
        }
        return out
    }
}
