/// CIS 4.6 (not publicly invocable: resource policy, function URL) and 4.10 (no unknown cross-account
/// access: resource policy principals and layers from other accounts).
public struct ExposureChecks: CheckFamily {
    public init() {}

    public var checkIDs: [String] {
        ["function-public-policy", "function-url-auth-none", "function-cross-account-policy", "layer-cross-account"]
    }

    /// Condition keys that tie a statement to a specific caller.
    static let restrictingKeys: Set<String> = ["aws:sourcearn", "aws:sourceaccount", "aws:principalorgid",
                                               "aws:sourceowner", "aws:principalaccount", "aws:principalarn",
                                               "aws:sourcevpce", "aws:sourcevpc"]

    public func evaluate(_ id: String, on target: CheckTarget, context: CheckContext) -> CheckOutcome? {
        guard case .function(let f) = target else { return nil }
        switch id {
        case "function-public-policy": return withPolicy(f) { publicAccess($0, f) }
        case "function-cross-account-policy": return withPolicy(f) { crossAccount($0, f, context) }
        case "function-url-auth-none":
            switch f.url {
            case .unavailable(let why): return .cannotEvaluate("function URL configuration: \(why)")
            case .known(nil): return CheckOutcome(.pass, "Function \(f.name) has no function URL.")
            case .known(let url?):
                switch url.authType.uppercased() {
                case "NONE":
                    return CheckOutcome(.fail, "Function URL \(url.url ?? "") of \(f.name) has AuthType NONE: anyone on the internet can invoke it.")
                case "AWS_IAM": return CheckOutcome(.pass, "Function URL requires IAM authentication.")
                default: return CheckOutcome(.manual, "Function URL AuthType is \(url.authType); verify it resolves to AWS_IAM.")
                }
            }
        case "layer-cross-account":
            guard let layers = f.layers.value else { return .cannotEvaluate("layers: \(f.layers.reason ?? "")") }
            var foreign: [String] = [], unknown: [String] = []
            for arn in layers {
                let parts = arn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 7, parts[0] == "arn", parts[2] == "lambda" else {
                    unknown.append(arn)
                    continue
                }
                let owner = parts[4]
                if owner != f.account && !isAccountID(owner) {
                    unknown.append(arn)
                    continue
                }
                if owner == f.account || context.trustedAccounts.contains(owner) { continue }
                if let publisher = context.risk.knownLayerPublishers.first(where: { $0.account == owner }) {
                    _ = publisher
                    continue
                }
                foreign.append("\(arn) (account \(owner))")
            }
            if foreign.isEmpty && !unknown.isEmpty {
                return CheckOutcome(.manual, "The publisher account of layer(s) \(unknown.joined(separator: ", ")) cannot be determined statically; verify it.")
            }
            if foreign.isEmpty {
                return CheckOutcome(.pass, "All \(layers.count) layer(s) come from the function's account or a known publisher.")
            }
            return CheckOutcome(.fail, "Function \(f.name) runs layers from unknown accounts: \(foreign.joined(separator: ", ")). Layer code runs inside the function with its role, event and environment.")
        default: return nil
        }
    }

    private func withPolicy(_ f: LambdaFunction, _ evaluate: (PolicyDocument) -> CheckOutcome) -> CheckOutcome {
        switch f.resourcePolicy {
        case .unavailable(let why): return .cannotEvaluate("resource policy of \(f.name): \(why)")
        case .known(nil): return CheckOutcome(.pass, "Function \(f.name) has no resource-based policy.")
        case .known(let body?):
            do { return evaluate(try body.parse(source: "resource policy of \(f.name)")) } catch {
                return CheckOutcome(.error, "\(error)")
            }
        }
    }

    private func publicAccess(_ policy: PolicyDocument, _ f: LambdaFunction) -> CheckOutcome {
        var failures: [String] = [], narrowed: [String] = []
        for s in policy.statements where s.effect == .allow {
            guard let principals = s.principals else { continue }
            let everyone = s.notPrincipal || principals.values.contains { values in
                values.contains { $0 == "*" || $0 == "arn:aws:iam::*:root" }
            }
            guard everyone else { continue }
            let keys = Set(s.conditionKeys)
            let urlNone = s.condition.values.contains { $0.contains { $0.key.lowercased() == "lambda:functionurlauthtype" && $0.value.contains("NONE") } }
            if urlNone {
                failures.append("\(s.label) lets everyone invoke the function URL without authentication")
            } else if keys.isDisjoint(with: ExposureChecks.restrictingKeys) {
                failures.append("\(s.label) allows Principal \"*\" to call \(s.actionsText)\(keys.isEmpty ? "" : " (conditions on \(keys.sorted().joined(separator: ", ")) do not restrict the caller)")")
            } else {
                narrowed.append("\(s.label) allows Principal \"*\" only under \(keys.sorted().joined(separator: ", "))")
            }
        }
        if !failures.isEmpty {
            return CheckOutcome(.fail, "Function \(f.name) is publicly invocable: " + failures.joined(separator: "; ") + ".")
        }
        if !narrowed.isEmpty {
            return CheckOutcome(.manual, "Function \(f.name): " + narrowed.joined(separator: "; ") + ". Verify the condition pins a caller you own.")
        }
        return CheckOutcome(.pass, "No statement of the resource policy admits everyone.")
    }

    private func crossAccount(_ policy: PolicyDocument, _ f: LambdaFunction, _ context: CheckContext) -> CheckOutcome {
        var failures: [String] = []
        for s in policy.statements where s.effect == .allow {
            guard let principals = s.principals else { continue }
            for account in (principals["AWS"] ?? []).compactMap(accountOf) {
                if account != f.account && !context.trustedAccounts.contains(account) {
                    failures.append("\(s.label) grants account \(account)")
                }
            }
            let keys = Set(s.conditionKeys)
            for service in principals["Service"] ?? [] where keys.isDisjoint(with: ExposureChecks.restrictingKeys) {
                failures.append("\(s.label) lets \(service) invoke on behalf of any account (no aws:SourceAccount/aws:SourceArn condition)")
            }
            if let source = s.condition.values.compactMap({ $0.first { $0.key.lowercased() == "aws:sourceaccount" }?.value }).first {
                for account in source where isAccountID(account) && account != f.account && !context.trustedAccounts.contains(account) {
                    failures.append("\(s.label) accepts events from account \(account)")
                }
            }
        }
        if failures.isEmpty {
            return CheckOutcome(.pass, "The resource policy grants no unknown account.")
        }
        return CheckOutcome(.fail, "Function \(f.name) can be invoked from outside its account: " + failures.joined(separator: "; ")
                            + ". Mark expected accounts with --trusted-account.")
    }

    /// The account of an AWS principal (`123456789012` or `arn:aws:iam::123456789012:…`).
    private func accountOf(_ principal: String) -> String? {
        if isAccountID(principal) { return principal }
        let parts = principal.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 5, parts[0] == "arn", isAccountID(parts[4]) { return parts[4] }
        return nil
    }

    private func isAccountID(_ text: String) -> Bool {
        text.count == 12 && text.allSatisfy(\.isNumber)
    }
}
