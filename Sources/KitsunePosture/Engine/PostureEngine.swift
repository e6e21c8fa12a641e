import Foundation
import KitsuneFindings

/// The result of running the checks: every outcome as a ``Finding`` (PASS/FAIL/MANUAL/ERROR), and
/// whether the snapshot was incomplete (an API failed mid-run), in which case the report is partial.
public struct PostureReport: Sendable {
    public var findings: [Finding]
    /// Human notes on what is missing (empty when complete).
    public var incomplete: [String]
    public var isPartial: Bool { !incomplete.isEmpty }
}

/// Runs the catalogue's checks over an ``AccountSnapshot``. Used for live accounts and, with
/// `isTemplate`, for SAM/CloudFormation templates (static checks only, Checkov ids as rule ids).
public struct PostureEngine: Sendable {
    public var catalogue: CheckCatalogue
    public var registry: CheckRegistry
    public var runtimes: RuntimeTable
    public var risk: IAMRiskTable

    public init(catalogue: CheckCatalogue, registry: CheckRegistry, runtimes: RuntimeTable, risk: IAMRiskTable) {
        self.catalogue = catalogue
        self.registry = registry
        self.runtimes = runtimes
        self.risk = risk
    }

    /// The engine with the bundled data files and all built-in checks.
    public static func standard() throws -> PostureEngine {
        PostureEngine(catalogue: try .bundled(), registry: try .standard(), runtimes: try .bundled(), risk: try .bundled())
    }

    /// Evaluates every applicable check. `only` restricts to some check ids.
    public func run(_ snapshot: AccountSnapshot, now: Date = Date(), trustedAccounts: Set<String> = [],
                    isTemplate: Bool = false, only: Set<String>? = nil) -> PostureReport {
        let context = CheckContext(snapshot: snapshot, runtimes: runtimes, risk: risk, now: now,
                                   trustedAccounts: trustedAccounts, isTemplate: isTemplate)
        var findings: [Finding] = []
        let checks = catalogue.checks.filter { (!isTemplate || $0.static) && (only?.contains($0.id) ?? true) }
        // Roles with the functions that use them (only roles used by scanned functions).
        var roleUsers: [String: [LambdaFunction]] = [:]
        var roleOrder: [String] = []
        for function in snapshot.functions {
            guard let key = function.roleKey.value ?? nil, snapshot.roles[key] != nil else { continue }
            if roleUsers[key] == nil { roleOrder.append(key) }
            roleUsers[key, default: []].append(function)
        }
        for check in checks {
            guard let family = registry.family(for: check.id) else {
                findings.append(makeFinding(check, CheckOutcome(.error, "No logic is registered for check \(check.id)."),
                                            resource: "kitsune", location: nil, isTemplate: isTemplate))
                continue
            }
            switch check.scope {
            case .account:
                for region in snapshot.regions {
                    if let outcome = family.evaluate(check.id, on: .region(region), context: context) {
                        findings.append(makeFinding(check, outcome, resource: "account \(snapshot.accountID ?? "?") region \(region.region)",
                                                    location: nil, isTemplate: isTemplate))
                    }
                }
            case .function:
                for function in snapshot.functions {
                    if let outcome = family.evaluate(check.id, on: .function(function), context: context) {
                        findings.append(makeFinding(check, outcome, resource: function.arn, location: function.location,
                                                    isTemplate: isTemplate))
                    }
                }
            case .role:
                for key in roleOrder {
                    guard let role = snapshot.roles[key], let users = roleUsers[key] else { continue }
                    if var outcome = family.evaluate(check.id, on: .role(role, functions: users), context: context) {
                        outcome.properties["functions"] = users.map(\.name).joined(separator: ",")
                        findings.append(makeFinding(check, outcome, resource: role.arn,
                                                    location: role.location ?? users.first?.location, isTemplate: isTemplate))
                    }
                }
                // Functions whose role is unknown: the role checks cannot be evaluated for them.
                for function in snapshot.functions {
                    let key = function.roleKey.value ?? nil
                    if key == nil || snapshot.roles[key ?? ""] == nil {
                        let why = function.roleKey.reason ?? "the execution role \(function.roleArn ?? "?") was not read"
                        findings.append(makeFinding(check, .cannotEvaluate(why), resource: function.arn,
                                                    location: function.location, isTemplate: isTemplate))
                    }
                }
            }
        }
        return PostureReport(findings: findings, incomplete: snapshot.incomplete)
    }

    /// Builds the shared Finding value for an outcome.
    func makeFinding(_ check: CheckDefinition, _ outcome: CheckOutcome, resource: String, location: Location?,
                     isTemplate: Bool) -> Finding {
        let ruleID = isTemplate ? (check.checkovID ?? check.id) : check.id
        var properties = outcome.properties
        properties["check_id"] = check.id
        if !check.cis.isEmpty { properties["cis_section"] = check.cis }
        if let checkov = check.checkovID { properties["checkov_id"] = checkov }
        if !check.prowler.isEmpty { properties["prowler_check"] = check.prowler.joined(separator: ",") }
        let remediation = [check.remediation, outcome.detail].compactMap { $0 }.joined(separator: "\n")
        let title = check.cis.isEmpty ? check.title : "\(check.title) [CIS \(check.cis)]"
        let kind: FindingKind = check.scope == .role ? .permission : .misconfiguration
        let references = check.cis.isEmpty ? [] : ["CIS AWS Compute Services Benchmark v1.0.0 \(check.cis)"]
        return Finding(id: Fingerprint.of([ruleID, resource, location?.path ?? ""]), ruleID: ruleID, kind: kind,
                       status: outcome.status, severity: outcome.severity ?? check.severity, title: title,
                       message: outcome.message, location: location, resource: resource,
                       remediation: remediation, references: references, properties: properties)
    }
}

/// Stable finding ids: FNV-1a 64 over the parts.
enum Fingerprint {
    static func of(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in parts.joined(separator: "\u{1F}").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return "kitsune-" + String(hash, radix: 16)
    }
}
