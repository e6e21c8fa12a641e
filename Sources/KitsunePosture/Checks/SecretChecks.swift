import Foundation

/// CIS 4.3 / CKV_AWS_45: plaintext secrets in environment variables. Values are never printed.
public struct SecretChecks: CheckFamily {
    public init() {}

    public var checkIDs: [String] { ["env-plaintext-secrets"] }

    public func evaluate(_ id: String, on target: CheckTarget, context: CheckContext) -> CheckOutcome? {
        guard id == "env-plaintext-secrets", case .function(let f) = target else { return nil }
        guard let env = f.environment.value else {
            return .cannotEvaluate("environment of \(f.name): \(f.environment.reason ?? "")")
        }
        let rules = context.risk.secretEnvironment
        // The patterns were validated when the table was loaded.
        guard let name = try? NSRegularExpression(pattern: rules.namePattern),
              let exclusions = try? NSRegularExpression(pattern: rules.nameExclusions),
              let reference = try? NSRegularExpression(pattern: rules.referencePattern),
              let resolve = try? NSRegularExpression(pattern: rules.deployTimeResolvePattern) else {
            return CheckOutcome(.error, "Secret rules in iam-risk.json are not valid regular expressions.")
        }
        let valueRules = rules.valueRules.compactMap { rule in
            (try? NSRegularExpression(pattern: rule.pattern)).map { (rule.id, $0) }
        }
        var hits: [String] = []
        for key in env.keys.sorted() {
            if case .intrinsic("Parameter", let parameter)? = env[key], matches(name, key), !matches(exclusions, key) {
                hits.append("\(key) is set from template parameter \(parameter): the value is stored in plaintext in the function configuration")
                continue
            }
            guard case .string(let value) = env[key] ?? .null, !value.isEmpty else { continue }
            if matches(resolve, value) {
                hits.append("\(key) is a {{resolve:…}} dynamic reference: CloudFormation writes the secret into the function configuration in plaintext")
                continue
            }
            if let rule = valueRules.first(where: { matches($0.1, value) }) {
                hits.append("\(key) holds a value matching \(rule.0) (\(mask(value)))")
                continue
            }
            if matches(reference, value) { continue }
            if matches(name, key) && !matches(exclusions, key) && value.count >= 6 {
                hits.append("\(key) looks like a secret by name and holds a literal value (\(mask(value)))")
            }
        }
        if hits.isEmpty {
            return CheckOutcome(.pass, "No plaintext secrets found in the \(env.count) environment variable(s) of \(f.name).")
        }
        return CheckOutcome(.fail, "Function \(f.name) keeps secrets in plaintext environment variables: " + hits.joined(separator: "; ")
                            + ". Anyone with lambda:GetFunctionConfiguration can read them.",
                            properties: ["variables": hits.compactMap { $0.split(separator: " ").first.map(String.init) }.joined(separator: ",")])
    }

    private func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Never shows any character of the value, only its length.
    private func mask(_ value: String) -> String {
        "value of \(value.count) characters"
    }
}
