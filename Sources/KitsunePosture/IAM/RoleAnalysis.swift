import KitsuneFindings

/// The readable part of a role's permissions, plus what could not be read.
public struct RoleAnalysis: Sendable {
    public var role: ExecutionRole
    public var documents: [PolicyDocument]
    public var managed: [ManagedPolicyAttachment]
    /// Facts that could not be read (access denied, policy outside the template, …).
    public var unreadable: [String]
    /// Policies that were read but are malformed.
    public var malformed: [PolicyError]
    public var account: String
    public var region: String
    /// Sources of documents of the AWS managed policies the risk table lists as narrow (logging, VPC ENIs,
    /// event-source polling): AWS scopes them; least privilege does not flag their `Resource: "*"`.
    public var acceptedNarrow: Set<String> = []

    /// Reads every policy of `role`. `account`/`region` place the probe resources.
    public init(role: ExecutionRole, account: String, region: String, risk: IAMRiskTable) {
        self.role = role
        self.account = account
        self.region = region
        documents = []
        managed = []
        unreadable = []
        malformed = []
        switch role.inlinePolicies {
        case .unavailable(let why): unreadable.append("inline policies of \(role.name): \(why)")
        case .known(let list):
            for policy in list {
                let source = "inline policy \"\(policy.name)\" of role \(role.name)"
                read(policy.document, source: source)
            }
        }
        switch role.managedPolicies {
        case .unavailable(let why): unreadable.append("attached policies of \(role.name): \(why)")
        case .known(let list):
            managed = list
            for policy in list {
                let source = "managed policy \(policy.arn)"
                let isAWSManaged = policy.arn.contains(":iam::aws:policy/")
                if let document = policy.document {
                    read(document, source: source)
                    if isAWSManaged && risk.narrowManagedPolicies.contains(policy.name) { acceptedNarrow.insert(source) }
                } else if risk.broadPolicy(arnOrName: policy.arn) == nil
                            && !risk.narrowManagedPolicies.contains(policy.name) {
                    unreadable.append(isAWSManaged
                        ? "\(source): document not in Kitsune's AWS managed policy data (refresh it with scripts/refresh-managed-policies)"
                        : "\(source): document not available")
                }
            }
        }
    }

    private mutating func read(_ body: Observed<PolicyBody>, source: String) {
        switch body {
        case .unavailable(let why): unreadable.append("\(source): \(why)")
        case .known(let body):
            do { documents.append(try body.parse(source: source)) } catch let error as PolicyError {
                malformed.append(error)
            } catch {
                malformed.append(PolicyError(source: source, problem: "\(error)"))
            }
        }
    }

    /// The grant of `action` on a resource of its service that no policy names (i.e. "on *").
    public func grantOnAny(_ action: String, risk: IAMRiskTable) -> Grant {
        documents.grant(action: action, resource: risk.probe(action: action, account: account, region: region))
    }

    /// Turns findings into an outcome that never passes on incomplete data: FAIL if something failed,
    /// else ERROR for malformed policies, else MANUAL for unreadable ones, else PASS.
    public func conclude(failures: [String], severity: Severity? = nil, passMessage: String,
                         detail: String? = nil, properties: [String: String] = [:]) -> CheckOutcome {
        var note = ""
        if !malformed.isEmpty || !unreadable.isEmpty {
            note = " (not evaluated: " + (malformed.map(\.description) + unreadable).joined(separator: "; ") + ")"
        }
        if !failures.isEmpty {
            return CheckOutcome(.fail, failures.joined(separator: " ") + note, detail: detail, severity: severity,
                                properties: properties)
        }
        if !malformed.isEmpty {
            return CheckOutcome(.error, "Could not evaluate role \(role.name): " + malformed.map(\.description).joined(separator: "; "))
        }
        if !unreadable.isEmpty {
            return CheckOutcome(.manual, "Could not evaluate role \(role.name): " + unreadable.joined(separator: "; ") + ". Verify manually.")
        }
        return CheckOutcome(.pass, passMessage)
    }
}

/// Builds narrower replacement statements for over-broad ones.
enum PolicyNarrowing {
    /// A proposed policy (JSON text) replacing `statements`, scoped to `account`/`region`.
    static func propose(for statements: [PolicyStatement], risk: IAMRiskTable, account: String, region: String) -> String {
        var services: [String] = []
        for statement in statements {
            let patterns: [String]
            switch statement.actions {
            case .only(let p): patterns = p
            case .allExcept: patterns = ["*"]
            }
            for pattern in patterns {
                let service = pattern.split(separator: ":").first.map { String($0).lowercased() } ?? "*"
                if !services.contains(service) { services.append(service) }
            }
        }
        // In templates the account and region are the stack's: propose `!Sub`-ready pseudo parameters.
        let (region, account) = region == TemplateModel.region ? ("${AWS::Region}", "${AWS::AccountId}") : (region, account)
        var lines: [String] = []
        for service in services {
            let key = service == "*" ? "default" : service
            let narrowing = risk.narrowing[key] ?? risk.narrowing["default"]
            let svc = service == "*" ? "SERVICE" : service
            let actions = (narrowing?.actions ?? ["\(svc):SPECIFIC_ACTION"]).map {
                "\"" + $0.replacingOccurrences(of: "{service}", with: svc) + "\""
            }
            let resource = (narrowing?.resource ?? "arn:aws:\(svc):{region}:{account}:RESOURCE")
                .replacingOccurrences(of: "{service}", with: svc)
                .replacingOccurrences(of: "{region}", with: region)
                .replacingOccurrences(of: "{account}", with: account)
            lines.append("    {\"Effect\": \"Allow\", \"Action\": [\(actions.joined(separator: ", "))], \"Resource\": \"\(resource)\"}")
        }
        return "Proposed narrower policy (replace the upper-case placeholders with the names the function uses):\n"
            + "{\"Version\": \"2012-10-17\", \"Statement\": [\n" + lines.joined(separator: ",\n") + "\n]}"
    }
}
