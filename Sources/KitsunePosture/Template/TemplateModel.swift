import KitsuneFindings

/// Builds an ``AccountSnapshot`` from a parsed template: one ``LambdaFunction`` per
/// AWS::Serverless::Function / AWS::Lambda::Function (SAM Globals applied), roles from AWS::IAM::Role,
/// AWS::IAM::Policy / ManagedPolicy and SAM `Policies` (policy templates expanded), the resource policy
/// from AWS::Lambda::Permission, function URLs from FunctionUrlConfig and AWS::Lambda::Url.
struct TemplateModel {
    let path: String
    let root: TemplateNode
    let samPolicies: SAMPolicyTemplates
    let managedPolicies: AWSManagedPolicies
    let resolver: TemplateResolver
    let resources: [(String, TemplateNode)]
    /// Line of each resource's logical id.
    let resourceLines: [String: Int]

    /// Symbolic pseudo parameters (no colons, so ARNs containing them still split into fields).
    static let account = "${AWS.AccountId}"
    static let region = "${AWS.Region}"

    init(root: TemplateNode, path: String, samPolicies: SAMPolicyTemplates, managedPolicies: AWSManagedPolicies = .empty) throws {
        guard case .mapping = root else {
            throw TemplateError(path: path, line: root.line, problem: "a template must be a mapping at the top level")
        }
        guard let resourcesNode = root["Resources"] else {
            throw TemplateError(path: path, line: nil, problem: "not a CloudFormation template: no Resources section")
        }
        guard case .mapping(let resources, _, let keyLines) = resourcesNode else {
            throw TemplateError(path: path, line: resourcesNode.line, problem: "Resources must be a mapping of logical ids to resources")
        }
        var types: [String: String] = [:]
        for (name, resource) in resources {
            guard case .mapping = resource else {
                throw TemplateError(path: path, line: resource.line, problem: "resource \(name) must be a mapping")
            }
            guard let type = resource["Type"]?.scalar else {
                throw TemplateError(path: path, line: resource.line, problem: "resource \(name) has no Type")
            }
            types[name] = type
        }
        var defaults: [String: TemplateNode] = [:]
        for (name, parameter) in root["Parameters"]?.pairs ?? [] {
            if let fallback = parameter["Default"] { defaults[name] = fallback }
        }
        self.path = path
        self.root = root
        self.samPolicies = samPolicies
        self.managedPolicies = managedPolicies
        self.resources = resources
        var lines: [String: Int] = [:]
        for (index, (name, resource)) in resources.enumerated() {
            lines[name] = index < keyLines.count ? keyLines[index] : resource.line
        }
        self.resourceLines = lines
        self.resolver = TemplateResolver(parameterDefaults: defaults, resourceTypes: types)
    }

    func snapshot() -> AccountSnapshot {
        var roles: [String: ExecutionRole] = [:]
        for (name, resource) in resources where resource["Type"]?.scalar == "AWS::IAM::Role" {
            roles["template:\(name)"] = role(name, resource)
        }
        attachStandalonePolicies(to: &roles)
        var functions: [LambdaFunction] = []
        for (name, resource) in resources {
            let type = resource["Type"]?.scalar ?? ""
            guard type == "AWS::Serverless::Function" || type == "AWS::Lambda::Function" else { continue }
            functions.append(function(name, resource, serverless: type == "AWS::Serverless::Function", roles: &roles))
        }
        return AccountSnapshot(accountID: TemplateModel.account, regions: [], functions: functions, roles: roles)
    }

    // MARK: roles

    private func role(_ name: String, _ resource: TemplateNode) -> ExecutionRole {
        let props = resource["Properties"]
        var inline: [InlinePolicy] = []
        for (index, policy) in (props?["Policies"]?.items ?? []).enumerated() {
            let policyName = policy["PolicyName"].map { resolver.value($0).displayText } ?? "Policies[\(index)]"
            if let document = policy["PolicyDocument"] {
                inline.append(InlinePolicy(name: policyName, document: .known(.value(resolver.value(document)))))
            } else {
                inline.append(InlinePolicy(name: policyName, document: .unavailable("no PolicyDocument at line \(policy.line)")))
            }
        }
        let managed = (props?["ManagedPolicyArns"]?.items ?? []).map(managedAttachment)
        return ExecutionRole(key: "template:\(name)", arn: name, name: name, exists: .known(true),
                             managedPolicies: .known(managed), inlinePolicies: .known(inline),
                             location: Location(path: path, line: resourceLines[name] ?? resource.line))
    }

    /// A managed policy reference: an AWS managed ARN/name (its document from the bundled AWS managed
    /// policy data when it has it), or a customer managed policy of this template.
    func managedAttachment(_ node: TemplateNode) -> ManagedPolicyAttachment {
        if let target = resolver.referencedResource(node), let resource = resources.first(where: { $0.0 == target })?.1,
           let document = resource["Properties"]?["PolicyDocument"] {
            return ManagedPolicyAttachment(arn: target, name: target, document: .known(.value(resolver.value(document))))
        }
        let text = resolver.value(node).displayText
        let arn = text.contains(":") ? text : "arn:aws:iam::aws:policy/\(text)"
        let name = arn.split(separator: "/").last.map(String.init) ?? text
        let isAWS = arn.contains(":iam::aws:policy/")
        guard isAWS else {
            return ManagedPolicyAttachment(arn: arn, name: name,
                                           document: .unavailable("customer managed policy \(text) is not defined in this template"))
        }
        return awsManaged(arn: arn, name: name)
    }

    /// An AWS managed policy: the bundled document when the data has it (the ARN as AWS spells it, path
    /// included), else the reference only (the risk table's broad/narrow lists still judge it by name).
    func awsManaged(arn: String, name: String) -> ManagedPolicyAttachment {
        guard let known = managedPolicies.policy(arnOrName: arn) else { return ManagedPolicyAttachment(arn: arn, name: name) }
        let partition = arn.split(separator: ":", omittingEmptySubsequences: false).dropFirst().first.map(String.init) ?? "aws"
        let canonical = known.arn.replacingOccurrences(of: "arn:aws:", with: "arn:\(partition):")
        return ManagedPolicyAttachment(arn: canonical, name: known.name, document: .known(.value(known.document)))
    }

    /// AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources that list `Roles`.
    private func attachStandalonePolicies(to roles: inout [String: ExecutionRole]) {
        for (name, resource) in resources {
            let type = resource["Type"]?.scalar
            guard type == "AWS::IAM::Policy" || type == "AWS::IAM::ManagedPolicy",
                  let props = resource["Properties"], let document = props["PolicyDocument"] else { continue }
            for roleRef in props["Roles"]?.items ?? [] {
                guard let target = resolver.referencedResource(roleRef), var role = roles["template:\(target)"] else { continue }
                if case .known(var list) = role.inlinePolicies {
                    list.append(InlinePolicy(name: name, document: .known(.value(resolver.value(document)))))
                    role.inlinePolicies = .known(list)
                }
                roles["template:\(target)"] = role
            }
        }
    }

    /// The role SAM generates for a function without `Role`: AWSLambdaBasicExecutionRole + `Policies`.
    func samRole(_ name: String, _ policies: TemplateNode?, line: Int) -> ExecutionRole {
        var managed = [awsManaged(arn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                                  name: "AWSLambdaBasicExecutionRole")]
        var inline: [InlinePolicy] = []
        let items: [TemplateNode]
        if let policies {
            items = policies.items ?? [policies]
        } else { items = [] }
        for (index, item) in items.enumerated() {
            let label = "Policies[\(index)] of \(name)"
            switch item {
            case .scalar, .intrinsic:
                if case .intrinsic = item, resolver.referencedResource(item) == nil, case .intrinsic = resolver.value(item) {
                    inline.append(InlinePolicy(name: label, document: .unavailable("\(resolver.value(item).displayText) cannot be resolved statically")))
                } else {
                    managed.append(managedAttachment(item))
                }
            case .mapping(let pairs, _, _):
                if item["Statement"] != nil {
                    inline.append(InlinePolicy(name: label, document: .known(.value(resolver.value(item)))))
                } else if pairs.count == 1, let (template, args) = pairs.first {
                    var arguments: [String: JSONValue] = [:]
                    for (k, v) in args.pairs { arguments[k] = resolver.value(v) }
                    do {
                        let document = try samPolicies.expand(template, arguments: arguments)
                        inline.append(InlinePolicy(name: "\(template) (\(label))", document: .known(.value(document))))
                    } catch {
                        inline.append(InlinePolicy(name: label, document: .unavailable("\(error) at line \(item.line)")))
                    }
                } else {
                    inline.append(InlinePolicy(name: label, document: .unavailable("unrecognised Policies entry at line \(item.line)")))
                }
            case .sequence:
                inline.append(InlinePolicy(name: label, document: .unavailable("unrecognised Policies entry at line \(item.line)")))
            }
        }
        return ExecutionRole(key: "template:\(name)Role", arn: "\(name)Role", name: "\(name)Role (generated by SAM)",
                             exists: .known(true), managedPolicies: .known(managed), inlinePolicies: .known(inline),
                             location: Location(path: path, line: policies?.line ?? line))
    }
}
