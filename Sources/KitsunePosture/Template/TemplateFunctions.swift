import KitsuneFindings

extension TemplateModel {
    /// SAM Globals.Function merged under a function's own properties: scalars are overridden, maps
    /// merged (function wins), lists concatenated (globals first), as SAM does.
    func mergedProperties(_ own: TemplateNode?, serverless: Bool) -> TemplateNode {
        let ownNode = own ?? .mapping([], line: 0, keyLines: [])
        guard serverless, let globals = root["Globals"]?["Function"] else { return ownNode }
        return TemplateModel.merge(globals, ownNode)
    }

    static func merge(_ base: TemplateNode, _ over: TemplateNode) -> TemplateNode {
        switch (base, over) {
        case (.mapping(let b, _, let bLines), .mapping(let o, let line, let oLines)):
            var out = b
            var lines = bLines
            for (index, (key, value)) in o.enumerated() {
                let keyLine = index < oLines.count ? oLines[index] : line
                if let i = out.firstIndex(where: { $0.0 == key }) {
                    out[i] = (key, merge(out[i].1, value))
                    if i < lines.count { lines[i] = keyLine }
                } else {
                    out.append((key, value))
                    lines.append(keyLine)
                }
            }
            return .mapping(out, line: line, keyLines: lines)
        case (.sequence(let b, _), .sequence(let o, let line)): return .sequence(b + o, line: line)
        default: return over
        }
    }

    func function(_ name: String, _ resource: TemplateNode, serverless: Bool,
                  roles: inout [String: ExecutionRole]) -> LambdaFunction {
        let props = mergedProperties(resource["Properties"], serverless: serverless)
        let line = resourceLines[name] ?? resource.line

        // Role
        var roleKey: Observed<String?> = .known(nil)
        var roleArn: String?
        if let roleNode = props["Role"] {
            if let target = resolver.referencedResource(roleNode) {
                roleKey = .known("template:\(target)")
                roleArn = target
            } else {
                roleArn = resolver.value(roleNode).displayText
            }
        } else if serverless {
            let role = samRole(name, props["Policies"], line: line)
            roles[role.key] = role
            roleKey = .known(role.key)
            roleArn = role.arn
        } else {
            roleKey = .unavailable("AWS::Lambda::Function \(name) has no Role (line \(line))")
        }

        let isImage = props["PackageType"]?.scalar == "Image"
        let runtime: Observed<String?>
        switch props["Runtime"].map { resolver.value($0) } {
        case .string(let r)?: runtime = .known(r)
        case nil: runtime = isImage ? .known(nil) : .unavailable("no Runtime property")
        case let other?: runtime = .unavailable("Runtime is \(other.displayText), not resolvable statically")
        }

        let environment: Observed<[String: JSONValue]>
        switch props["Environment"]?["Variables"].map { resolver.value($0) } {
        case nil: environment = .known([:])
        case .object(let vars)?: environment = .known(vars)
        case let other?: environment = .unavailable("Environment.Variables is \(other.displayText)")
        }

        let tracingNode = serverless ? props["Tracing"] : props["TracingConfig"]?["Mode"]
        let tracing: Observed<String?> = optionalString(tracingNode, "tracing")
        let dlqNode = serverless ? props["DeadLetterQueue"]?["TargetArn"] : props["DeadLetterConfig"]?["TargetArn"]

        var layers: [String] = []
        for layer in props["Layers"]?.items ?? [] {
            if let own = resolver.referencedResource(layer) {
                // A layer version defined in this template: published in the deploying account.
                layers.append("arn:aws:lambda:\(TemplateModel.region):\(TemplateModel.account):layer:\(own):1")
            } else {
                layers.append(resolver.value(layer).displayText)
            }
        }

        let url = functionURL(name, props)
        return LambdaFunction(
            name: props["FunctionName"].flatMap { resolver.value($0).stringValue } ?? name,
            arn: name, region: TemplateModel.region, account: TemplateModel.account,
            location: Location(path: path, line: line),
            runtime: runtime, roleKey: roleKey, roleArn: roleArn, environment: environment,
            kmsKeyArn: .known(props["KmsKeyArn"].map { resolver.value($0).displayText }),
            tracingMode: tracing, layers: .known(layers),
            inVPC: .known(props["VpcConfig"] != nil),
            reservedConcurrency: .known(props["ReservedConcurrentExecutions"] != nil),
            deadLetterTarget: .known(dlqNode.map { resolver.value($0).displayText }),
            codeSigningConfigArn: .known(props["CodeSigningConfigArn"].map { resolver.value($0).displayText }),
            url: url, resourcePolicy: permissions(for: name, functionName: props["FunctionName"]),
            tags: .known([:]))
    }

    private func optionalString(_ node: TemplateNode?, _ what: String) -> Observed<String?> {
        switch node.map { resolver.value($0) } {
        case nil: return .known(nil)
        case .string(let s)?: return .known(s)
        case let other?: return .unavailable("\(what) is \(other.displayText), not resolvable statically")
        }
    }

    /// SAM FunctionUrlConfig or an AWS::Lambda::Url targeting the function.
    private func functionURL(_ name: String, _ props: TemplateNode) -> Observed<FunctionURLConfig?> {
        if let config = props["FunctionUrlConfig"] {
            return .known(FunctionURLConfig(authType: config["AuthType"].map { resolver.value($0).displayText } ?? "(missing AuthType)"))
        }
        for (_, resource) in resources where resource["Type"]?.scalar == "AWS::Lambda::Url" {
            guard let p = resource["Properties"], let target = p["TargetFunctionArn"],
                  resolver.referencedResource(target) == name else { continue }
            return .known(FunctionURLConfig(authType: p["AuthType"].map { resolver.value($0).displayText } ?? "(missing AuthType)"))
        }
        return .known(nil)
    }

    /// The function's resource policy as AWS::Lambda::Permission resources would build it.
    private func permissions(for name: String, functionName: TemplateNode?) -> Observed<PolicyBody?> {
        let literalName = functionName.flatMap { resolver.value($0).stringValue }
        var statements: [JSONValue] = []
        for (logicalID, resource) in resources where resource["Type"]?.scalar == "AWS::Lambda::Permission" {
            guard let p = resource["Properties"], let target = p["FunctionName"] else { continue }
            let matches = resolver.referencedResource(target) == name
                || (literalName != nil && resolver.value(target).stringValue == literalName)
            guard matches else { continue }
            let principalText = p["Principal"].map { resolver.value($0).displayText } ?? ""
            let principal: JSONValue
            if principalText == "*" { principal = .string("*") } else if principalText.hasSuffix(".amazonaws.com") {
                principal = .object(["Service": .string(principalText)])
            } else {
                principal = .object(["AWS": .string(principalText)])
            }
            var condition: [String: JSONValue] = [:]
            var equals: [String: JSONValue] = [:]
            if let v = p["SourceArn"] { condition["ArnLike"] = .object(["AWS:SourceArn": .string(resolver.value(v).displayText)]) }
            if let v = p["SourceAccount"] { equals["AWS:SourceAccount"] = .string(resolver.value(v).displayText) }
            if let v = p["PrincipalOrgID"] { equals["aws:PrincipalOrgID"] = .string(resolver.value(v).displayText) }
            if let v = p["FunctionUrlAuthType"] { equals["lambda:FunctionUrlAuthType"] = .string(resolver.value(v).displayText) }
            if !equals.isEmpty { condition["StringEquals"] = .object(equals) }
            var statement: [String: JSONValue] = [
                "Sid": .string(logicalID), "Effect": .string("Allow"), "Principal": principal,
                "Action": .string(p["Action"].map { resolver.value($0).displayText } ?? "lambda:InvokeFunction"),
            ]
            if !condition.isEmpty { statement["Condition"] = .object(condition) }
            statements.append(.object(statement))
        }
        if statements.isEmpty { return .known(nil) }
        return .known(.value(.object(["Version": .string("2012-10-17"), "Statement": .array(statements)])))
    }
}
