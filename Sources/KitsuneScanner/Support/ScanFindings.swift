import Crypto
import Foundation
import KitsuneFindings

/// Builds the scanner's findings with stable ids (same input → same id, for ignore files and SARIF).
enum ScanFindings {
    static func id(_ parts: String...) -> String {
        let digest = SHA256.hash(data: Data(parts.joined(separator: "\u{0}").utf8))
        return digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// A problem with the input itself (`input/…` rules).
    static func input(_ rule: String, severity: Severity, path: String, title: String, message: String,
                      kind: FindingKind = .inputError, properties: [String: String] = [:]) -> Finding {
        Finding(id: id("input/\(rule)", path), ruleID: "input/\(rule)", kind: kind, severity: severity,
                title: title, message: message, location: Location(path: path), properties: properties)
    }

    /// Turns a reading problem of one entry into a finding.
    static func entryProblem(_ problem: EntryProblem, path: String) -> Finding {
        switch problem {
        case .encrypted:
            return input("encrypted-entry", severity: .medium, path: path, title: "Encrypted archive entry",
                         message: "\(path) is encrypted; its contents cannot be inspected.")
        case .unsupportedMethod(let method):
            return input("unsupported-compression", severity: .medium, path: path, title: "Unsupported compression method",
                         message: "\(path) uses compression method \(method) (only stored and deflate are supported); not inspected.")
        case .corrupt(let why):
            return input("corrupt-entry", severity: .medium, path: path, title: "Corrupt or truncated archive entry",
                         message: "\(path): \(why); inspection stopped at that point.")
        case .crcMismatch(let expected, let actual):
            return input("crc-mismatch", severity: .medium, path: path, title: "Archive entry fails its CRC check",
                         message: String(format: "%@: CRC-32 is %08x but the archive declares %08x; the entry is corrupt or was tampered with.", path, actual, expected))
        case .bomb(let why):
            return input("zip-bomb", severity: .high, path: path, title: "Zip bomb suspected",
                         message: "\(path): \(why); reading stopped.")
        case .entryTooLarge(let limit):
            return input("entry-too-large", severity: .medium, path: path, title: "Entry above the size limit",
                         message: "\(path) is larger than the per-entry limit of \(limit) bytes; reading stopped.")
        case .totalLimitReached(let limit):
            return input("total-limit", severity: .high, path: path, title: "Scan stopped at the total size limit",
                         message: "The scan read more than \(limit) uncompressed bytes (reached at \(path)); the rest of the input was not scanned.")
        }
    }

    static func secret(_ match: SecretMatch, path: String) -> Finding {
        Finding(id: id("secret/\(match.ruleID)", path, match.secretHash), ruleID: "secret/\(match.ruleID)", kind: .secret,
                severity: match.severity, title: match.description,
                message: "\(match.description) (\(match.masked)) in \(path) line \(match.line).",
                location: Location(path: path, line: match.line, column: match.column),
                remediation: "Revoke and rotate this credential, remove it from the package, and load it at run time from AWS Secrets Manager or SSM Parameter Store.",
                properties: ["masked": match.masked, "secret_sha256_16": match.secretHash, "occurrences": "1"])
    }
}
