import Foundation

/// One executable found in a scanned input (ELF, Mach-O, or a script with a shebang).
public struct ExecutableRecord: Codable, Hashable, Sendable {
    /// Path inside the input (nested archives joined with `!/`).
    public var path: String
    /// Lower-case hex SHA-256 of the contents.
    public var sha256: String
    public var size: Int
    /// `elf`, `macho`, or `script`.
    public var format: String
    /// `x86_64`, `aarch64`, `arm`, `i386`, … (`universal` for fat Mach-O, nil for scripts).
    public var arch: String?
    /// `static` or `dynamic` for binaries; nil for scripts.
    public var linkage: String?
    /// The shebang interpreter of a script (`/usr/bin/env python3`).
    public var interpreter: String?
    /// Permission bits in octal (`0755`) when the input records them.
    public var mode: String?

    public init(path: String, sha256: String, size: Int, format: String, arch: String? = nil,
                linkage: String? = nil, interpreter: String? = nil, mode: String? = nil) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.format = format
        self.arch = arch
        self.linkage = linkage
        self.interpreter = interpreter
        self.mode = mode
    }
}

/// A finding that an ignore entry suppressed, and why.
public struct SuppressedFinding: Codable, Hashable, Sendable {
    public var finding: Finding
    public var reason: String
    /// Expiry date of the ignore entry (`YYYY-MM-DD`), if any.
    public var expires: String?

    public init(finding: Finding, reason: String, expires: String? = nil) {
        self.finding = finding
        self.reason = reason
        self.expires = expires
    }
}

/// Everything a report renders: the findings of one run plus what was inventoried.
public struct ScanReport: Sendable {
    /// The scanned input (path, or account/region for posture).
    public var target: String
    public var toolName: String
    public var toolVersion: String
    public var startedAt: Date
    public var finishedAt: Date
    /// Failing findings (after ignores).
    public var findings: [Finding]
    public var packages: [DiscoveredPackage]
    public var executables: [ExecutableRecord]
    public var suppressed: [SuppressedFinding]
    /// Notes for the reader: expired ignore entries, limits hit, incomplete scans.
    public var notes: [String]
    /// Counters (`files`, `bytes`, `archives`, …).
    public var statistics: [String: Int]

    public init(target: String, toolName: String = "kitsune", toolVersion: String = KitsuneVersion.current,
                startedAt: Date, finishedAt: Date, findings: [Finding], packages: [DiscoveredPackage] = [],
                executables: [ExecutableRecord] = [], suppressed: [SuppressedFinding] = [],
                notes: [String] = [], statistics: [String: Int] = [:]) {
        self.target = target
        self.toolName = toolName
        self.toolVersion = toolVersion
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.findings = findings
        self.packages = packages
        self.executables = executables
        self.suppressed = suppressed
        self.notes = notes
        self.statistics = statistics
    }
}

/// The version reports carry.
public enum KitsuneVersion {
    public static let current = "0.1.0"
}
