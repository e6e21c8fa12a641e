/// Human-readable text report. Failures are grouped by severity (most severe first); results that are
/// not failures get their own sections after them and never appear under a severity heading: checks
/// that could not be evaluated (MANUAL, with the reason), checks that met malformed input (ERROR), and,
/// when a posture run asks for them, the checks that passed.
enum TableReport {
    static func render(_ report: ScanReport) -> String {
        var out = "\(report.toolName) \(report.toolVersion) — \(report.target)\n"
        let failures = report.findings.filter { $0.status == .fail }
        if report.findings.isEmpty { out += "\nNo findings.\n" } else if failures.isEmpty { out += "\nNo failures.\n" }
        for severity in Severity.allCases.reversed() {
            let group = failures.filter { $0.severity == severity }
            guard !group.isEmpty else { continue }
            out += section("\(severity.rawValue.uppercased()) (\(group.count))", group, showSeverity: false)
        }
        for status in [CheckStatus.manual, .error, .pass] {
            let group = report.findings.filter { $0.status == status }
            guard !group.isEmpty, let heading = heading(status) else { continue }
            out += section("\(heading) (\(group.count))", group, showSeverity: status != .pass)
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
        let counts = Severity.allCases.reversed().map { s in "\(failures.filter { $0.severity == s }.count) \(s.rawValue)" }
        out += "\nSummary: \(failures.count) failures (\(counts.joined(separator: ", ")))"
        let others = [CheckStatus.manual, .error, .pass].compactMap { status -> String? in
            let n = report.findings.filter { $0.status == status }.count
            return n == 0 ? nil : "\(n) \(status == .manual ? "could not be evaluated (MANUAL)" : status.rawValue)"
        }
        if !others.isEmpty { out += ", " + others.joined(separator: ", ") }
        out += "; \(report.packages.count) packages"
        let declared = report.packages.filter { $0.source == .manifest }.count
        if declared > 0 { out += " (\(declared) declared in a manifest only, no lockfile)" }
        out += ", \(report.executables.count) executables"
        if let files = report.statistics["files"] { out += ", \(files) files scanned" }
        out += ".\n"
        return out
    }

    /// The section title of a status that is not a failure.
    static func heading(_ status: CheckStatus) -> String? {
        switch status {
        case .manual: return "COULD NOT EVALUATE (MANUAL)"
        case .error: return "MALFORMED INPUT, NOT EVALUATED (ERROR)"
        case .pass: return "PASSED"
        case .fail: return nil
        }
    }

    /// One section: the rule, title, place and message of each finding. In the MANUAL and ERROR sections
    /// the check's severity is shown as what a failure would be (to rank what to verify), never as a verdict.
    private static func section(_ title: String, _ group: [Finding], showSeverity: Bool) -> String {
        var out = "\n\(title)\n"
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
            if showSeverity { out += "      severity if it failed: \(finding.severity.rawValue)\n" }
            if let fixed = finding.properties["fixed_version"] { out += "      fixed in \(fixed)\n" }
            if let count = finding.properties["occurrences"], count != "1" { out += "      occurrences \(count)\n" }
        }
        return out
    }
}
