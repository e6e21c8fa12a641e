/// The common result model of every Kitsune check: `kitsune scan` (libraries, secrets, executables,
/// templates) and `kitsune posture` (live account checks) both produce ``Finding`` values, and every
/// report format (table, JSON, SARIF, OCSF, CycloneDX) is rendered from them.

/// How bad a finding is. Ordered: `info < low < medium < high < critical`.
public enum Severity: String, Codable, CaseIterable, Comparable, Sendable {
    case info, low, medium, high, critical

    private var rank: Int {
        switch self {
        case .info: return 0
        case .low: return 1
        case .medium: return 2
        case .high: return 3
        case .critical: return 4
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// What kind of problem a finding describes.
public enum FindingKind: String, Codable, Sendable {
    case vulnerability      // a vulnerable third-party package (OSV)
    case secret             // a credential in code, config or environment
    case executable         // a forbidden executable / miner indicator
    case misconfiguration   // CIS / Checkov style configuration check
    case permission         // IAM over-permission, privilege escalation
    case inputError         // input that could not be read (malformed lockfile, truncated zip, …)
}

/// The outcome of a check. Scanners only emit `.fail`; posture checks also record the other outcomes,
/// and a check that could not be evaluated is `.manual` or `.error`, never `.pass`.
public enum CheckStatus: String, Codable, CaseIterable, Sendable {
    case fail = "FAIL", pass = "PASS", manual = "MANUAL", error = "ERROR"
}

/// Where a finding was found. `path` is a path inside the scanned input (for a zip: the entry path,
/// nested archives joined with `!/`), a template resource, or an AWS resource ARN.
public struct Location: Codable, Hashable, Sendable {
    public var path: String
    public var line: Int?
    public var column: Int?

    public init(path: String, line: Int? = nil, column: Int? = nil) {
        self.path = path
        self.line = line
        self.column = column
    }
}

/// One result.
public struct Finding: Codable, Hashable, Sendable {
    /// Stable fingerprint of this finding (same input → same id), used by ignore files and SARIF.
    public var id: String
    /// The rule or advisory: `GHSA-…`/`CVE-…`/`PYSEC-…`, `secret/aws-access-key`, `CIS-4.6`, `CKV_AWS_45`, …
    public var ruleID: String
    public var kind: FindingKind
    public var status: CheckStatus
    public var severity: Severity
    public var title: String
    /// Human explanation: what is wrong and why it matters.
    public var message: String
    public var location: Location?
    /// The affected resource: package `name@version`, function name/ARN, role ARN, …
    public var resource: String?
    public var remediation: String?
    public var references: [String]
    /// Extra structured facts (e.g. `fixed_version`, `aliases`, `cvss`, `checkov_id`, `sha256`).
    public var properties: [String: String]

    public init(id: String, ruleID: String, kind: FindingKind, status: CheckStatus = .fail,
                severity: Severity, title: String, message: String, location: Location? = nil,
                resource: String? = nil, remediation: String? = nil, references: [String] = [],
                properties: [String: String] = [:]) {
        self.id = id
        self.ruleID = ruleID
        self.kind = kind
        self.status = status
        self.severity = severity
        self.title = title
        self.message = message
        self.location = location
        self.resource = resource
        self.remediation = remediation
        self.references = references
        self.properties = properties
    }
}

/// `--fail-on` threshold: exit 1 when a failing finding is at or above it. Only `FAIL` counts: a check
/// that could not be evaluated (`MANUAL`), met malformed input (`ERROR`) or passed never fails the gate,
/// whatever its severity.
public enum FailThreshold: String, CaseIterable, Sendable {
    case critical, high, medium, low, never

    /// Whether `findings` should fail the CI gate.
    public func isExceeded(by findings: [Finding]) -> Bool {
        guard let minimum = Severity(rawValue: rawValue) else { return false }
        return findings.contains { $0.status == .fail && $0.severity >= minimum }
    }
}
