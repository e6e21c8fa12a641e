/// Human-readable text report, findings grouped by severity (most severe first).
enum TableReport {
    static func render(_ report: ScanReport) -> String {
        var out = "\(report.toolName) \(report.toolVersion) — \(report.target)\n"
        if report.findings.isEmpty { out += "\nNo findings.\n" }
        for severity in Severity.allCases.reversed() {
            let group = report.findings.filter { $0.severity == severity }
            guard !group.isEmpty else { continue }
            out += "\n\(severity.rawValue.uppercased()) (\(group.count))\n"
            let width = min(40, group.map { $0.ruleID.count }.max() ?? 0)
            for finding in group {
                let rule = finding.ruleID.padding(toLength: max(width, finding.ruleID.count), withPad: " ", startingAt: 0)
                out += "  \(rule)  \(finding.title)\n"
                if let location = finding.location {
                    var place = location.path
                    if let line = location.line { place += ":\(line)" }
                    out += "      at \(place)\n"
                }
                if let resource = finding.resource { out += "      resource \(resource)\n" }
                out += "      \(finding.message)\n"
                if let fixed = finding.properties["fixed_version"] { out += "      fixed in \(fixed)\n" }
                if let count = finding.properties["occurrences"], count != "1" { out += "      occurrences \(count)\n" }
            }
        }
        if !report.suppressed.isEmpty {
            out += "\nSUPPRESSED (\(report.suppressed.count))\n"
            for s in report.suppressed {
                out += "  \(s.finding.ruleID)  \(s.finding.location?.path ?? "")  — \(s.reason)\(s.expires.map { " (until \($0))" } ?? "")\n"
            }
        }
        if !report.notes.isEmpty {
            out += "\nNOTES\n"
            for note in report.notes { out += "  - \(note)\n" }
        }
        let counts = Severity.allCases.reversed().map { s in "\(report.findings.filter { $0.severity == s }.count) \(s.rawValue)" }
        out += "\nSummary: \(report.findings.count) findings (\(counts.joined(separator: ", "))); "
        out += "\(report.packages.count) packages, \(report.executables.count) executables"
        if let files = report.statistics["files"] { out += ", \(files) files scanned" }
        out += ".\n"
        return out
    }
}
