/// SAM policy templates (`Data/sam-policy-templates.json`) expanded to IAM statements.
public struct SAMPolicyTemplates: Decodable, Sendable {
    public struct Statement: Decodable, Sendable {
        public var actions: [String]
        public var resources: [String]
    }
    public struct Template: Decodable, Sendable {
        public var parameters: [String]
        public var statements: [Statement]
    }

    public var templates: [String: Template]

    /// The table shipped in the module's resources.
    public static func bundled() throws -> SAMPolicyTemplates {
        try PostureResources.json(SAMPolicyTemplates.self, "sam-policy-templates.json")
    }

    /// Expands `name` with `arguments` into a policy document value. Throws when the template is unknown
    /// or a parameter is missing. Non-string arguments (`!Ref Bucket`) name one concrete resource.
    public func expand(_ name: String, arguments: [String: JSONValue]) throws -> JSONValue {
        guard let template = templates[name] else {
            throw TemplateProblem("unknown SAM policy template \(name)")
        }
        var values: [String: String] = [:]
        for parameter in template.parameters {
            guard let argument = arguments[parameter] else {
                throw TemplateProblem("SAM policy template \(name) needs parameter \(parameter)")
            }
            if case .string(let s) = argument { values[parameter] = s } else {
                values[parameter] = "${\(argument.displayText)}"
            }
        }
        let statements: [JSONValue] = template.statements.map { statement in
            let resources = statement.resources.map { resource -> JSONValue in
                var r = resource.replacingOccurrences(of: "${AWS::Partition}", with: "aws")
                    .replacingOccurrences(of: "${AWS::Region}", with: TemplateModel.region)
                    .replacingOccurrences(of: "${AWS::AccountId}", with: TemplateModel.account)
                for (k, v) in values { r = r.replacingOccurrences(of: "${\(k)}", with: v) }
                return .string(r)
            }
            return .object(["Effect": .string("Allow"), "Action": .array(statement.actions.map { .string($0) }),
                            "Resource": .array(resources)])
        }
        return .object(["Version": .string("2012-10-17"), "Statement": .array(statements)])
    }
}

/// A problem inside one resource of a template (reported as an ERROR finding, scanning continues).
public struct TemplateProblem: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
