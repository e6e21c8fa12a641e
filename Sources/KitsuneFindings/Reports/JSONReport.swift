/// Kitsune's own JSON report, schema `kitsune.scan/v1` (documented in docs/scanner.md). Keys are
/// sorted; fields are only ever added within v1, never renamed or removed.
enum JSONReport {
    static let schema = "kitsune.scan/v1"

    static func object(_ report: ScanReport) -> [String: Any] {
        // `by_severity` counts failures only: a MANUAL (could not evaluate), ERROR or PASS result of a
        // critical check is not a critical failure. `by_status` counts every result.
        var bySeverity: [String: Int] = [:]
        for severity in Severity.allCases { bySeverity[severity.rawValue] = 0 }
        for finding in report.findings where finding.status == .fail { bySeverity[finding.severity.rawValue, default: 0] += 1 }
        var byStatus: [String: Int] = [:]
        for status in CheckStatus.allCases { byStatus[status.rawValue] = 0 }
        for finding in report.findings { byStatus[finding.status.rawValue, default: 0] += 1 }
        return [
            "schema": schema,
            "tool": ["name": report.toolName, "version": report.toolVersion],
            "target": report.target,
            "started_at": ReportJSON.timestamp(report.startedAt),
            "finished_at": ReportJSON.timestamp(report.finishedAt),
            "summary": [
                "findings": report.findings.count, "by_severity": bySeverity, "by_status": byStatus,
                "failures": byStatus[CheckStatus.fail.rawValue] ?? 0,
                "suppressed": report.suppressed.count, "packages": report.packages.count,
                "executables": report.executables.count,
            ] as [String: Any],
            "findings": report.findings.map(ReportJSON.finding),
            "suppressed": report.suppressed.map { s -> [String: Any] in
                var object: [String: Any] = ["finding": ReportJSON.finding(s.finding), "reason": s.reason]
                if let expires = s.expires { object["expires"] = expires }
                return object
            },
            "packages": report.packages.map(ReportJSON.package),
            "executables": report.executables.map(ReportJSON.executable),
            "notes": report.notes,
            "statistics": report.statistics,
        ]
    }
}
