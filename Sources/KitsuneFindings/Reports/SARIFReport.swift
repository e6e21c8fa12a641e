import Foundation

/// SARIF 2.1.0, as GitHub code scanning accepts it: one run, rules with `security-severity`,
/// results with levels and entry paths (nested archives joined with `!/`) as artifact URIs.
enum SARIFReport {
    static func level(_ severity: Severity) -> String {
        switch severity {
        case .critical, .high: return "error"
        case .medium: return "warning"
        case .low, .info: return "note"
        }
    }

    /// The level of one result: failures by severity; a check that could not be evaluated (MANUAL) or
    /// met malformed input (ERROR) is a `note` whatever its severity; a PASS is `kind: pass`, level `none`.
    static func level(_ finding: Finding) -> String {
        switch finding.status {
        case .fail: return level(finding.severity)
        case .manual, .error: return "note"
        case .pass: return "none"
        }
    }

    /// GitHub maps ≥ 9.0 critical, ≥ 7.0 high, ≥ 4.0 medium, > 0 low.
    static func securitySeverity(_ severity: Severity) -> String {
        switch severity {
        case .critical: return "9.5"
        case .high: return "8.0"
        case .medium: return "5.5"
        case .low: return "3.0"
        case .info: return "0.0"
        }
    }

    /// A relative URI reference for a location path (percent-encoded; `!` kept).
    static func uri(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }

    static func object(_ report: ScanReport) -> [String: Any] {
        var ruleIndex: [String: Int] = [:]
        var rules: [[String: Any]] = []
        for finding in report.findings where ruleIndex[finding.ruleID] == nil {
            ruleIndex[finding.ruleID] = rules.count
            // Only failures rank a rule: a rule whose results are all MANUAL/ERROR/PASS has no severity (0.0, note).
            let worst = report.findings.filter { $0.ruleID == finding.ruleID && $0.status == .fail }.map(\.severity).max()
            var rule: [String: Any] = [
                "id": finding.ruleID, "name": finding.ruleID.replacingOccurrences(of: "/", with: "_"),
                "shortDescription": ["text": finding.title],
                "fullDescription": ["text": finding.title],
                "defaultConfiguration": ["level": worst.map(level) ?? "note"],
                "properties": ["security-severity": worst.map(securitySeverity) ?? "0.0",
                               "tags": ["security", finding.kind.rawValue]] as [String: Any],
            ]
            if let remediation = finding.remediation { rule["help"] = ["text": remediation] }
            if let reference = finding.references.first { rule["helpUri"] = reference }
            rules.append(rule)
        }
        let results: [[String: Any]] = report.findings.map { finding in
            var result: [String: Any] = [
                "ruleId": finding.ruleID, "ruleIndex": ruleIndex[finding.ruleID] ?? 0,
                "level": level(finding), "message": ["text": finding.message],
                "partialFingerprints": ["kitsuneFindingId/v1": finding.id],
                "properties": finding.properties.merging(["severity": finding.severity.rawValue, "kind": finding.kind.rawValue,
                                                          "status": finding.status.rawValue]) { a, _ in a },
            ]
            if finding.status == .pass { result["kind"] = "pass" }
            if let location = finding.location {
                var physical: [String: Any] = ["artifactLocation": ["uri": uri(location.path)]]
                if let line = location.line {
                    var region: [String: Any] = ["startLine": max(1, line)]
                    if let column = location.column { region["startColumn"] = max(1, column) }
                    physical["region"] = region
                }
                result["locations"] = [["physicalLocation": physical]]
            }
            return result
        }
        let run: [String: Any] = [
            "tool": ["driver": ["name": report.toolName, "version": report.toolVersion, "semanticVersion": report.toolVersion,
                                "informationUri": "https://github.com/kitsune-security/kitsune", "rules": rules] as [String: Any]],
            "results": results,
            "invocations": [["executionSuccessful": true, "startTimeUtc": ReportJSON.timestamp(report.startedAt),
                             "endTimeUtc": ReportJSON.timestamp(report.finishedAt)] as [String: Any]],
            "properties": ["target": report.target],
        ]
        return ["$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]]
    }
}
