import KitsuneFindings

/// A fact that was either read or could not be read (with the reason, e.g.
/// `AccessDenied for lambda:GetPolicy`). Checks over `.unavailable` facts say MANUAL/ERROR, never PASS.
public enum Observed<Value: Sendable>: Sendable {
    case known(Value)
    case unavailable(String)

    public var value: Value? {
        if case .known(let v) = self { return v }
        return nil
    }

    public var reason: String? {
        if case .unavailable(let r) = self { return r }
        return nil
    }
}

extension Observed: Equatable where Value: Equatable {}
extension Observed: Hashable where Value: Hashable {}

/// A policy document as it was obtained: IAM's text (possibly URL-encoded) or a template's parsed value.
public enum PolicyBody: Hashable, Sendable {
    case text(String)
    case value(JSONValue)

    /// Parses the body; `source` names it in errors.
    public func parse(source: String) throws -> PolicyDocument {
        switch self {
        case .text(let text): return try PolicyDocument.parse(text: text, source: source)
        case .value(let value): return try PolicyDocument.parse(value: value, source: source)
        }
    }
}

/// A managed policy attached to a role. `document` is nil when only the reference is known (an AWS
/// managed policy in a template).
public struct ManagedPolicyAttachment: Hashable, Sendable {
    public var arn: String
    public var name: String
    public var document: Observed<PolicyBody>?

    public init(arn: String, name: String, document: Observed<PolicyBody>? = nil) {
        self.arn = arn
        self.name = name
        self.document = document
    }
}

/// An inline policy of a role.
public struct InlinePolicy: Hashable, Sendable {
    public var name: String
    public var document: Observed<PolicyBody>

    public init(name: String, document: Observed<PolicyBody>) {
        self.name = name
        self.document = document
    }
}

/// An execution role and its permissions.
public struct ExecutionRole: Hashable, Sendable {
    /// Key functions refer to it by: the role ARN (live), or `template:LogicalId` (templates).
    public var key: String
    public var arn: String
    public var name: String
    /// `.known(false)` when IAM answers NoSuchEntity.
    public var exists: Observed<Bool>
    public var managedPolicies: Observed<[ManagedPolicyAttachment]>
    public var inlinePolicies: Observed<[InlinePolicy]>
    /// Where the role is defined (templates).
    public var location: Location?

    public init(key: String, arn: String, name: String, exists: Observed<Bool>,
                managedPolicies: Observed<[ManagedPolicyAttachment]>, inlinePolicies: Observed<[InlinePolicy]>,
                location: Location? = nil) {
        self.key = key
        self.arn = arn
        self.name = name
        self.exists = exists
        self.managedPolicies = managedPolicies
        self.inlinePolicies = inlinePolicies
        self.location = location
    }
}

/// A function URL's configuration.
public struct FunctionURLConfig: Hashable, Sendable {
    /// `NONE` or `AWS_IAM` (or an unresolved template value).
    public var authType: String
    public var url: String?

    public init(authType: String, url: String? = nil) {
        self.authType = authType
        self.url = url
    }
}

/// Everything the checks need to know about one function.
public struct LambdaFunction: Hashable, Sendable {
    public var name: String
    /// Function ARN (live) or `template.yaml#LogicalId` (templates).
    public var arn: String
    public var region: String
    public var account: String?
    /// Template resource position (templates only).
    public var location: Location?
    /// `nil` for container images.
    public var runtime: Observed<String?>
    /// Key of the execution role in ``AccountSnapshot/roles``; nil when the role is unknown/external.
    public var roleKey: Observed<String?>
    public var roleArn: String?
    public var environment: Observed<[String: JSONValue]>
    public var kmsKeyArn: Observed<String?>
    public var tracingMode: Observed<String?>
    public var layers: Observed<[String]>
    public var inVPC: Observed<Bool>
    public var reservedConcurrency: Observed<Bool>
    public var deadLetterTarget: Observed<String?>
    public var codeSigningConfigArn: Observed<String?>
    public var url: Observed<FunctionURLConfig?>
    /// The resource-based policy (templates: synthesised from AWS::Lambda::Permission resources).
    public var resourcePolicy: Observed<PolicyBody?>
    public var tags: Observed<[String: String]>

    public init(name: String, arn: String, region: String, account: String?, location: Location? = nil,
                runtime: Observed<String?>, roleKey: Observed<String?>, roleArn: String?,
                environment: Observed<[String: JSONValue]>, kmsKeyArn: Observed<String?>,
                tracingMode: Observed<String?>, layers: Observed<[String]>, inVPC: Observed<Bool>,
                reservedConcurrency: Observed<Bool>, deadLetterTarget: Observed<String?>,
                codeSigningConfigArn: Observed<String?>, url: Observed<FunctionURLConfig?>,
                resourcePolicy: Observed<PolicyBody?>, tags: Observed<[String: String]>) {
        self.name = name; self.arn = arn; self.region = region; self.account = account; self.location = location
        self.runtime = runtime; self.roleKey = roleKey; self.roleArn = roleArn; self.environment = environment
        self.kmsKeyArn = kmsKeyArn; self.tracingMode = tracingMode; self.layers = layers; self.inVPC = inVPC
        self.reservedConcurrency = reservedConcurrency; self.deadLetterTarget = deadLetterTarget
        self.codeSigningConfigArn = codeSigningConfigArn; self.url = url; self.resourcePolicy = resourcePolicy
        self.tags = tags
    }
}

/// AWS Config's configuration recorder state in one region.
public struct ConfigRecorderStatus: Hashable, Sendable {
    public var exists: Bool
    public var recording: Bool
    /// Records all supported resource types, or lists `AWS::Lambda::Function`.
    public var recordsLambda: Bool

    public init(exists: Bool, recording: Bool, recordsLambda: Bool) {
        self.exists = exists
        self.recording = recording
        self.recordsLambda = recordsLambda
    }
}

/// Account facts for one region.
public struct RegionSnapshot: Hashable, Sendable {
    public var region: String
    public var configRecorder: Observed<ConfigRecorderStatus>

    public init(region: String, configRecorder: Observed<ConfigRecorderStatus>) {
        self.region = region
        self.configRecorder = configRecorder
    }
}

/// The account as the collector saw it. `incomplete` lists API failures that cut a listing short
/// (e.g. ListFunctions failing on page 3): the report is then marked partial.
public struct AccountSnapshot: Sendable {
    public var accountID: String?
    public var regions: [RegionSnapshot]
    public var functions: [LambdaFunction]
    public var roles: [String: ExecutionRole]
    public var incomplete: [String]
    /// Role key → names of every function listed in the scanned regions that uses it, before any
    /// `--function`/`--tag` selection (so a shared role is seen even when only one user is selected).
    /// Nil when only ``functions`` are known (templates, hand-built snapshots).
    public var roleUsers: [String: [String]]?

    public init(accountID: String?, regions: [RegionSnapshot], functions: [LambdaFunction],
                roles: [String: ExecutionRole], incomplete: [String] = [], roleUsers: [String: [String]]? = nil) {
        self.accountID = accountID
        self.regions = regions
        self.functions = functions
        self.roles = roles
        self.incomplete = incomplete
        self.roleUsers = roleUsers
    }
}
