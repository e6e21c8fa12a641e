import Foundation

/// OCSF 1.1 Detection Finding (class 2004) events, one per finding, as a JSON array.
enum OCSFReport {
    static let version = "1.1.0"

    static func severityID(_ severity: Severity) -> Int {
        switch severity {
        case .info: return 1
        case .low: return 2
        case .medium: return 3
        case .high: return 4
        case .critical: return 5
        }
    }

    /// The finding's OCSF `status_id`/`status`: FAIL is New (1), PASS Resolved (4); MANUAL (could not
    /// be evaluated) and ERROR (malformed input) are Unknown (0): neither a finding nor its absence.
    /// Kitsune's own status is also in `unmapped.check_status`.
    static func status(_ status: CheckStatus) -> (Int, String) {
        switch status {
        case .fail: return (1, "New")
        case .pass: return (4, "Resolved")
        case .manual, .error: return (0, "Unknown")
        }
    }

    static func objects(_ report: ScanReport) -> [[String: Any]] {
        let time = Int(report.finishedAt.timeIntervalSince1970 * 1000)
        return report.findings.map { finding in
            let (statusID, status) = Self.status(finding.status)
            var info: [String: Any] = [
                "uid": finding.id, "title": finding.title, "desc": finding.message,
                "types": [finding.kind.rawValue], "created_time": time,
                "analytic": ["uid": finding.ruleID, "name": finding.ruleID, "type": "Rule", "type_id": 1] as [String: Any],
                "product_uid": report.toolName,
            ]
            if !finding.references.isEmpty { info["src_url"] = finding.references[0] }
            var resource: [String: Any] = ["name": finding.location?.path ?? finding.resource ?? report.target,
                                           "type": finding.kind == .misconfiguration || finding.kind == .permission ? "Resource" : "File"]
            if let resourceName = finding.resource { resource["uid"] = resourceName }
            var event: [String: Any] = [
                "class_uid": 2004, "class_name": "Detection Finding",
                "category_uid": 2, "category_name": "Findings",
                "activity_id": 1, "activity_name": "Create", "type_uid": 200_401,
                "type_name": "Detection Finding: Create",
                // A result that is not a verdict (MANUAL, ERROR) is Informational: SIEM rules keyed on severity_id
                // must not page for "could not evaluate"; the check's own severity stays in unmapped.check_severity.
                "severity_id": statusID == 0 ? 1 : severityID(finding.severity),
                "severity": statusID == 0 ? "Informational" : finding.severity.rawValue.capitalized,
                "status_id": statusID, "status": status,
                "time": time, "message": finding.message,
                "metadata": ["version": version, "product": ["name": report.toolName, "vendor_name": "Kitsune",
                                                             "version": report.toolVersion] as [String: Any]] as [String: Any],
                "finding_info": info, "resources": [resource],
                "unmapped": finding.properties.merging(["rule_id": finding.ruleID, "check_status": finding.status.rawValue,
                                                        "check_severity": finding.severity.rawValue]) { a, _ in a },
            ]
            if let remediation = finding.remediation { event["remediation"] = ["desc": remediation] }
            if let location = finding.location, let line = location.line {
                event["evidences"] = [["data": ["path": location.path, "line": line] as [String: Any]]]
            }
            return event
        }
    }
}
