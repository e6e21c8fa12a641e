import KitsuneFindings

/// CIS 4.4 / 4.9 and the excessive-permission analysis of execution roles: admin, wildcards, privilege
/// escalation, data exfiltration, broad managed policies.
public struct RolePermissionChecks: CheckFamily {
    public init() {}

    public var checkIDs: [String] {
        ["role-admin", "role-least-privilege", "role-privilege-escalation", "role-data-exfiltration",
         "role-broad-managed-policy"]
    }

    public func evaluate(_ id: String, on target: CheckTarget, context: CheckContext) -> CheckOutcome? {
        guard case .role(let role, let functions) = target else { return nil }
        let account = functions.first?.account ?? context.snapshot.accountID ?? "ACCOUNT_ID"
        let region = functions.first?.region ?? "REGION"
        if let why = role.exists.reason {
            return .cannotEvaluate("role \(role.arn): \(why)")
        }
        if role.exists.value == false {
            return CheckOutcome(.error, "Role \(role.arn) does not exist; its permissions cannot be analysed (see role-active).")
        }
        let analysis = RoleAnalysis(role: role, account: account, region: region, risk: context.risk)
        switch id {
        case "role-admin": return admin(analysis, context.risk)
        case "role-least-privilege": return leastPrivilege(analysis, context.risk)
        case "role-privilege-escalation": return escalation(analysis, context.risk)
        case "role-data-exfiltration": return exfiltration(analysis, context.risk)
        case "role-broad-managed-policy": return broadManaged(analysis, context.risk)
        default: return nil
        }
    }

    private func admin(_ a: RoleAnalysis, _ risk: IAMRiskTable) -> CheckOutcome {
        var failures: [String] = []
        var severity: Severity?
        for policy in a.managed where risk.broadPolicy(arnOrName: policy.arn)?.admin == true {
            failures.append("Role \(a.role.name) has the AWS managed policy \(policy.name) attached: full access to every service and resource.")
        }
        let grant = a.documents.grant(action: risk.adminProbeAction,
                                      resource: risk.probe(service: "kitsuneprobe", account: a.account, region: a.region))
        switch grant.level {
        case .unconditional:
            failures.append("Role \(a.role.name) is allowed every action on every resource (\"*\" on \"*\", or NotAction/NotResource with a short exclusion list) by \(grant.evidence.joined(separator: ", ")).")
        case .conditional:
            failures.append("Role \(a.role.name) is allowed every action on every resource, narrowed only by Condition keys \(grant.conditionKeys.joined(separator: ", ")) (\(grant.evidence.joined(separator: ", "))).")
            if failures.count == 1 { severity = .high }
        case .none: break
        }
        return a.conclude(failures: failures, severity: severity,
                          passMessage: "Role \(a.role.name) has no administrator-equivalent grant.")
    }

    private func leastPrivilege(_ a: RoleAnalysis, _ risk: IAMRiskTable) -> CheckOutcome {
        var failures: [String] = []
        var flagged: [PolicyStatement] = []
        for document in a.documents where !a.acceptedNarrow.contains(document.source) {
            for s in document.statements where s.effect == .allow {
                var problems: [String] = []
                switch s.actions {
                case .allExcept(let excluded):
                    problems.append("NotAction allows every action except \(excluded.joined(separator: ", "))")
                case .only(let patterns):
                    let wild = patterns.filter(Wildcard.isWildcard)
                    if !wild.isEmpty { problems.append("wildcard actions \(wild.joined(separator: ", "))") }
                }
                if let resources = s.resources {
                    let allowedOnStar: Bool
                    if case .only(let patterns) = s.actions {
                        allowedOnStar = patterns.allSatisfy { pattern in
                            risk.wildcardResourceAllowedActions.contains {
                                Wildcard.matches($0, pattern, caseInsensitive: true)
                            }
                        }
                    } else { allowedOnStar = false }
                    switch resources {
                    case .only(let patterns) where patterns.contains("*") && !allowedOnStar:
                        problems.append("Resource \"*\"")
                    case .allExcept(let excluded):
                        problems.append("NotResource covers everything except \(excluded.joined(separator: ", "))")
                    default: break
                    }
                }
                if !problems.isEmpty {
                    let narrowed = s.condition.isEmpty ? "" : " (narrowed by Condition keys \(s.conditionKeys.joined(separator: ", ")))"
                    failures.append("\(document.source) \(s.label): \(problems.joined(separator: "; "))\(narrowed).")
                    flagged.append(s)
                }
            }
        }
        let detail = flagged.isEmpty ? nil : PolicyNarrowing.propose(for: flagged, risk: risk, account: a.account, region: a.region)
        return a.conclude(failures: failures.isEmpty ? [] : ["Role \(a.role.name) is broader than the function needs:"] + failures,
                          passMessage: "Role \(a.role.name) names specific actions and resources.", detail: detail)
    }

    private func escalation(_ a: RoleAnalysis, _ risk: IAMRiskTable) -> CheckOutcome {
        var failures: [String] = []
        var worst = GrantLevel.none
        var paths: [String] = []
        var evidence = Set<String>()
        for path in risk.escalationPaths {
            let grants = path.actions.map { a.grantOnAny($0, risk: risk) }
            guard let level = grants.map(\.level).min(), level > .none else { continue }
            worst = max(worst, level)
            paths.append(path.id)
            evidence.formUnion(grants.flatMap(\.evidence))
            let how = level == .conditional ? " only under Condition keys \(Set(grants.flatMap(\.conditionKeys)).sorted().joined(separator: ", "))" : ""
            // The first paths are explained in full; the rest are listed.
            if failures.count < 3 {
                failures.append("\(path.id) (\(path.actions.joined(separator: " + ")) on any resource\(how)): \(path.risk)")
            } else {
                failures.append("\(path.id)\(how.isEmpty ? "" : " (conditional)")")
            }
        }
        if !failures.isEmpty {
            failures = ["\(paths.count) path(s): " + failures.joined(separator: "; ") + ". Granted by: \(evidence.sorted().joined(separator: ", "))."]
        }
        let severity: Severity? = worst == .conditional ? .high : nil
        let detail = failures.isEmpty ? nil : PolicyNarrowing.propose(for: escalationStatements(a), risk: risk, account: a.account, region: a.region)
        return a.conclude(failures: failures.isEmpty ? [] : ["Role \(a.role.name) can escalate privileges."] + failures,
                          severity: severity, passMessage: "Role \(a.role.name) grants no known privilege-escalation path.",
                          detail: detail, properties: paths.isEmpty ? [:] : ["escalation_paths": paths.joined(separator: ",")])
    }

    private func escalationStatements(_ a: RoleAnalysis) -> [PolicyStatement] {
        a.documents.flatMap(\.statements).filter { s in
            s.effect == .allow && ["iam:", "sts:", "lambda:"].contains { prefix in
                switch s.actions {
                case .only(let p): return p.contains { $0.lowercased().hasPrefix(prefix) || $0 == "*" }
                case .allExcept: return true
                }
            }
        }
    }

    private func exfiltration(_ a: RoleAnalysis, _ risk: IAMRiskTable) -> CheckOutcome {
        var failures: [String] = []
        var flagged: [PolicyStatement] = []
        var worst = GrantLevel.none
        for entry in risk.exfiltrationGrants {
            let grant = a.grantOnAny(entry.action, risk: risk)
            guard grant.level > .none else { continue }
            worst = max(worst, grant.level)
            let how = grant.level == .conditional ? " under Condition keys \(grant.conditionKeys.joined(separator: ", "))" : ""
            failures.append("\(entry.action) on any resource\(how): \(entry.risk) [\(grant.evidence.joined(separator: ", "))]")
            flagged += a.documents.flatMap(\.statements).filter {
                $0.effect == .allow && $0.covers(action: entry.action)
            }
        }
        let detail = flagged.isEmpty ? nil : PolicyNarrowing.propose(for: flagged, risk: risk, account: a.account, region: a.region)
        return a.conclude(failures: failures.isEmpty ? [] : ["Role \(a.role.name) can read or overwrite data it does not name:"] + failures,
                          severity: worst == .conditional ? .medium : nil,
                          passMessage: "Role \(a.role.name) scopes its data access to named resources.", detail: detail)
    }

    private func broadManaged(_ a: RoleAnalysis, _ risk: IAMRiskTable) -> CheckOutcome {
        let failures = a.managed.compactMap { policy -> String? in
            guard let entry = risk.broadPolicy(arnOrName: policy.arn) else { return nil }
            return "Role \(a.role.name) has the AWS managed policy \(entry.name) attached: \(entry.risk)"
        }
        if case .unavailable(let why) = a.role.managedPolicies {
            return failures.isEmpty ? .cannotEvaluate("attached policies of \(a.role.name): \(why)")
                                    : CheckOutcome(.fail, failures.joined(separator: " "))
        }
        if failures.isEmpty {
            return CheckOutcome(.pass, "Role \(a.role.name) has no broad AWS managed policy attached.")
        }
        return CheckOutcome(.fail, failures.joined(separator: " "))
    }
}
