import Foundation
import KitsuneFindings

/// The verdict of one check on one target.
public struct CheckOutcome: Hashable, Sendable {
    public var status: CheckStatus
    public var message: String
    /// Target-specific remediation (e.g. a proposed narrower policy), appended to the catalogue text.
    public var detail: String?
    /// Overrides the catalogue severity (e.g. a conditional grant is less severe than an unconditional one).
    public var severity: Severity?
    public var properties: [String: String]

    public init(_ status: CheckStatus, _ message: String, detail: String? = nil, severity: Severity? = nil,
                properties: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.detail = detail
        self.severity = severity
        self.properties = properties
    }

    /// A fact the check needs could not be read: MANUAL, with the reason.
    public static func cannotEvaluate(_ reason: String) -> CheckOutcome {
        CheckOutcome(.manual, "Could not evaluate: \(reason). Verify manually.")
    }
}

/// What a check runs on.
public enum CheckTarget: Sendable {
    case region(RegionSnapshot)
    case function(LambdaFunction)
    /// A role with the functions that use it.
    case role(ExecutionRole, functions: [LambdaFunction])
}

/// Everything a check may consult besides its target.
public struct CheckContext: Sendable {
    public var snapshot: AccountSnapshot
    public var runtimes: RuntimeTable
    public var risk: IAMRiskTable
    /// "Today" for runtime deprecation.
    public var now: Date
    /// Accounts whose access is known and expected (CIS 4.10): the function's own account is always trusted.
    public var trustedAccounts: Set<String>
    /// Whether this is a static template scan (some facts, e.g. account id, are symbolic).
    public var isTemplate: Bool

    public init(snapshot: AccountSnapshot, runtimes: RuntimeTable, risk: IAMRiskTable, now: Date,
                trustedAccounts: Set<String> = [], isTemplate: Bool = false) {
        self.snapshot = snapshot
        self.runtimes = runtimes
        self.risk = risk
        self.now = now
        self.trustedAccounts = trustedAccounts
        self.isTemplate = isTemplate
    }
}

/// The logic of a group of related checks. Each family declares the catalogue ids it implements and is
/// dispatched by id through ``CheckRegistry``.
public protocol CheckFamily: Sendable {
    var checkIDs: [String] { get }
    /// Evaluates check `id` on `target`; nil when the check does not apply to this kind of target.
    func evaluate(_ id: String, on target: CheckTarget, context: CheckContext) -> CheckOutcome?
}

/// Maps catalogue ids to their logic.
public struct CheckRegistry: Sendable {
    private var families: [String: any CheckFamily] = [:]

    /// A registry of `families`; an id implemented twice is a programming error reported as a throw.
    public init(_ families: [any CheckFamily]) throws {
        for family in families {
            for id in family.checkIDs {
                guard self.families[id] == nil else {
                    throw PostureDataError.invalid("CheckRegistry", "check '\(id)' is implemented twice")
                }
                self.families[id] = family
            }
        }
    }

    /// All built-in check families.
    public static func standard() throws -> CheckRegistry {
        try CheckRegistry([AccountChecks(), FunctionConfigChecks(), SecretChecks(), ExposureChecks(),
                           RoleAssignmentChecks(), RolePermissionChecks()])
    }

    public func family(for id: String) -> (any CheckFamily)? { families[id] }

    /// Catalogue ids without logic (must be empty; tested).
    public func unimplemented(in catalogue: CheckCatalogue) -> [String] {
        catalogue.checks.map(\.id).filter { families[$0] == nil }
    }
}
