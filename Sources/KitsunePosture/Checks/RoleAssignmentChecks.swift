/// CIS 4.5 (one role per function) and 4.7 (the execution role exists and is active).
public struct RoleAssignmentChecks: CheckFamily {
    public init() {}

    public var checkIDs: [String] { ["role-per-function", "role-active"] }

    public func evaluate(_ id: String, on target: CheckTarget, context: CheckContext) -> CheckOutcome? {
        guard case .function(let f) = target else { return nil }
        guard let key = f.roleKey.value else {
            return .cannotEvaluate("execution role of \(f.name): \(f.roleKey.reason ?? "")")
        }
        switch id {
        case "role-per-function":
            guard let key else {
                return CheckOutcome(.manual, "The execution role of \(f.name) (\(f.roleArn ?? "unknown")) is not resolvable here; check that no other function uses it.")
            }
            let others: [String]
            if let users = context.snapshot.roleUsers?[key] {
                var remaining = users
                if let mine = remaining.firstIndex(of: f.name) { remaining.remove(at: mine) }
                others = remaining
            } else {
                others = context.snapshot.functions.filter { $0.arn != f.arn && $0.roleKey.value == key }.map(\.name)
            }
            if others.isEmpty {
                if !context.snapshot.incomplete.isEmpty {
                    return CheckOutcome(.manual, "No other listed function uses the role of \(f.name), but the listing was incomplete; verify.")
                }
                let scope = context.isTemplate ? "in this template" : "in the scanned regions"
                return CheckOutcome(.pass, "Function \(f.name) is the only function \(scope) using its role.")
            }
            return CheckOutcome(.fail, "Function \(f.name) shares its execution role \(f.roleArn ?? key) with \(others.sorted().joined(separator: ", ")): each gets the union of their permissions.")
        case "role-active":
            guard let key, let role = context.snapshot.roles[key] else {
                return CheckOutcome(.manual, "The execution role \(f.roleArn ?? "of \(f.name)") could not be looked up; verify it exists.")
            }
            switch role.exists {
            case .unavailable(let why): return .cannotEvaluate("role \(role.arn): \(why)")
            case .known(true): return CheckOutcome(.pass, "Execution role \(role.arn) exists.")
            case .known(false):
                return CheckOutcome(.fail, "Function \(f.name) references role \(role.arn), which does not exist: the function cannot run, and whoever re-creates a role with that name controls it.")
            }
        default: return nil
        }
    }
}
