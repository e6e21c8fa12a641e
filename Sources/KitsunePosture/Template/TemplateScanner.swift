import Foundation
import KitsuneFindings

/// Static checks of SAM/CloudFormation templates: the posture checks marked `static` in the catalogue,
/// run over the template's functions and roles, reported with Checkov ids as rule ids and the template
/// path + resource line as location.
public struct TemplateScanner: Sendable {
    public var engine: PostureEngine
    public var samPolicies: SAMPolicyTemplates
    /// Documents of AWS managed policies (roles attaching them are judged, not deferred).
    public var managedPolicies: AWSManagedPolicies

    public init(engine: PostureEngine, samPolicies: SAMPolicyTemplates, managedPolicies: AWSManagedPolicies = .empty) {
        self.engine = engine
        self.samPolicies = samPolicies
        self.managedPolicies = managedPolicies
    }

    /// The scanner with the bundled data files.
    public static func standard() throws -> TemplateScanner {
        TemplateScanner(engine: try .standard(), samPolicies: try .bundled(), managedPolicies: try .bundled())
    }

    /// Every outcome (PASS included) for template `text`; `path` names it in locations and errors.
    public func scan(text: String, path: String, now: Date = Date(), trustedAccounts: Set<String> = []) throws -> PostureReport {
        let root = try TemplateNode.parse(text, path: path)
        let model = try TemplateModel(root: root, path: path, samPolicies: samPolicies, managedPolicies: managedPolicies)
        return engine.run(model.snapshot(), now: now, trustedAccounts: trustedAccounts, isTemplate: true)
    }
}

/// The entry points `kitsune scan` uses for templates.
public enum TemplateScan {
    /// Whether `path` looks like a CloudFormation/SAM template (by extension and content).
    public static func isTemplate(path: String) -> Bool {
        let lower = path.lowercased()
        guard [".yaml", ".yml", ".json", ".template"].contains(where: lower.hasSuffix),
              let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 256 * 1024), let text = String(data: head, encoding: .utf8) else {
            return false
        }
        if text.contains("AWSTemplateFormatVersion") || text.contains("AWS::Serverless-2016-10-31") { return true }
        // A top-level Resources section (column 0 in YAML; a "Resources" key in JSON) with CloudFormation
        // resource types. Nested ones (Serverless Framework's `resources: Resources:`) are not templates.
        let isJSON = text.drop { $0.isWhitespace }.first == "{"
        let topLevel = isJSON ? text.contains("\"Resources\"")
                              : text.range(of: #"(?m)^Resources\s*:"#, options: .regularExpression) != nil
        return topLevel && text.range(of: #"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+"#, options: .regularExpression) != nil
    }

    /// The failing and not-evaluable findings (FAIL, MANUAL, ERROR) of the template at `path`.
    /// Throws ``TemplateError`` (file, line, problem) for unreadable or malformed templates.
    public static func scan(path: String) throws -> [Finding] {
        try report(path: path).findings
    }

    /// ``scan(path:)`` plus notes for the reader (where the AWS managed policy documents come from).
    public static func report(path: String) throws -> (findings: [Finding], notes: [String]) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TemplateError(path: path, line: nil, problem: "cannot read the file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TemplateError(path: path, line: nil, problem: "not UTF-8 text")
        }
        let scanner = try TemplateScanner.standard()
        let findings = try scanner.scan(text: text, path: path).findings.filter { $0.status != .pass }
        let note = "AWS managed policies attached in the template are judged from their documents in "
            + "\(scanner.managedPolicies.provenance), \(scanner.managedPolicies.count) policies; "
            + "refresh with scripts/refresh-managed-policies."
        return (findings, [note])
    }
}
