/// Turns template nodes into ``JSONValue``s, resolving what can be resolved statically: parameters with
/// defaults, pseudo parameters (kept as `${AWS.Region}`-style tokens without colons so ARNs still split,
/// i.e. the deploying account, never a wildcard), `!Sub`, `!Join` of known parts. Everything else stays an opaque `.intrinsic`.
struct TemplateResolver {
    var parameterDefaults: [String: TemplateNode]
    var resourceTypes: [String: String]

    static let pseudo: [String: String] = [
        "AWS::Region": TemplateModel.region, "AWS::AccountId": TemplateModel.account, "AWS::Partition": "aws",
        "AWS::StackName": "${AWS.StackName}", "AWS::StackId": "${AWS.StackId}", "AWS::URLSuffix": "amazonaws.com",
    ]

    func value(_ node: TemplateNode, depth: Int = 0) -> JSONValue {
        guard depth < 32 else { return .intrinsic("(too deep)", "") }
        switch node {
        case .scalar(let s, _): return .string(s)
        case .sequence(let items, _): return .array(items.map { value($0, depth: depth + 1) })
        case .mapping(let pairs, _, _):
            var object: [String: JSONValue] = [:]
            for (k, v) in pairs { object[k] = value(v, depth: depth + 1) }
            return .object(object)
        case .intrinsic(let function, let argument, _):
            return intrinsic(function, argument, depth: depth + 1)
        }
    }

    /// The resource a `!Ref X` / `!GetAtt X.Arn` points at, if it is a resource of this template.
    func referencedResource(_ node: TemplateNode) -> String? {
        guard case .intrinsic(let function, let argument, _) = node else { return nil }
        switch function {
        case "Ref": return argument.scalar.flatMap { resourceTypes[$0] != nil ? $0 : nil }
        case "Fn::GetAtt":
            let name = argument.items?.first?.scalar ?? argument.scalar?.split(separator: ".").first.map(String.init)
            return name.flatMap { resourceTypes[$0] != nil ? $0 : nil }
        case "Fn::Sub":
            // `!Sub ${Fn.Arn}` or `${Fn}`
            guard let text = argument.scalar, text.hasPrefix("${"), text.hasSuffix("}") else { return nil }
            let inner = text.dropFirst(2).dropLast().split(separator: ".").first.map(String.init) ?? ""
            return resourceTypes[inner] != nil ? inner : nil
        default: return nil
        }
    }

    private func intrinsic(_ function: String, _ argument: TemplateNode, depth: Int) -> JSONValue {
        let opaque = JSONValue.intrinsic(function, value(argument, depth: depth).displayText)
        switch function {
        case "Ref":
            guard let name = argument.scalar else { return opaque }
            if let token = Self.pseudo[name] { return .string(token) }
            if let fallback = parameterDefaults[name] { return value(fallback, depth: depth) }
            // A parameter without a default: a deploy-time literal (kept distinguishable from resources).
            if resourceTypes[name] == nil { return .intrinsic("Parameter", name) }
            return opaque
        case "Fn::Sub":
            let text: String?
            var variables: [String: JSONValue] = [:]
            if let s = argument.scalar { text = s } else if let items = argument.items, items.count == 2 {
                text = items[0].scalar
                for (k, v) in items[1].pairs { variables[k] = value(v, depth: depth) }
            } else { text = nil }
            guard let text else { return opaque }
            return .string(substitute(text, variables))
        case "Fn::Join":
            guard let items = argument.items, items.count == 2, let delimiter = items[0].scalar,
                  let parts = items[1].items else { return opaque }
            var strings: [String] = []
            for part in parts {
                guard case .string(let s) = value(part, depth: depth) else { return opaque }
                strings.append(s)
            }
            return .string(strings.joined(separator: delimiter))
        default:
            return opaque
        }
    }

    /// Replaces `${Name}` by pseudo tokens, explicit variables and parameter defaults; other references
    /// (resources, attributes) stay as `${Name}`, which names one concrete resource.
    private func substitute(_ text: String, _ variables: [String: JSONValue]) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                return out
            }
            let name = String(rest[start.upperBound..<end])
            if name.hasPrefix("!") {
                out += "${" + name.dropFirst() + "}"
            } else if let token = Self.pseudo[name] {
                out += token
            } else if case .string(let s)? = variables[name] {
                out += s
            } else if let fallback = parameterDefaults[name], case .string(let s) = value(fallback) {
                out += s
            } else {
                out += "${\(name)}"
            }
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
