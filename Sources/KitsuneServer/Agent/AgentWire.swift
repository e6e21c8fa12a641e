import Foundation

/// What `GET /api/v1/agent/desired-state` answers: everything an in-account agent needs to run the
/// reconciler's pass itself — the account, the policies (their documents), the events URL, the
/// managed layer settings and what the server knows of the account's deployments, tokens and layer
/// versions (so an agent that kept nothing, like a Lambda function's cold start, resumes where the
/// last pass stopped). JSON keys are snake_case.
public struct AgentDesiredState: Codable, Sendable, Equatable {
    public struct Account: Codable, Sendable, Equatable {
        public var accountId: String
        public var regions: [String]
        public var groupId: String
    }

    public struct Policy: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var version: Int64
        /// The policy's YAML document, as saved (the agent parses it with the enforcer's parser).
        public var document: String
        public var updatedMs: Int64
    }

    public struct Function: Codable, Sendable, Equatable {
        public var arn: String
        public var region: String
        public var name: String
        public var layers: [String]
        public var deployment: AgentDeployment
    }

    /// A live token scoped to one function of the account: the agent checks the token a function
    /// carries against it (by its id and the SHA-256 of its secret) without sending it anywhere.
    public struct FunctionToken: Codable, Sendable, Equatable {
        public var id: String
        public var secretSha256: String
        public var functionName: String
        public var region: String?
    }

    public var account: Account
    /// `KITSUNE_EVENTS_URL` for protected functions; nil when the server has no `--public-url`.
    public var eventsUrl: String?
    /// Managed layers are named `PREFIX-x86_64` and `PREFIX-arm64`.
    public var layerPrefix: String
    public var policies: [Policy]
    public var functions: [Function]
    public var functionTokens: [FunctionToken]
    public var layerVersions: [AgentLayerVersion]
}

/// A function's deployment on the wire (as ``Deployment``).
public struct AgentDeployment: Codable, Sendable, Equatable {
    public var policyId: String?
    public var policyVersion: Int64?
    public var layerArn: String?
    public var status: String
    public var detail: String
    public var tokenId: String?
    public var changedMs: Int64?

    init(_ d: Deployment) {
        policyId = d.policyID
        policyVersion = d.policyVersion
        layerArn = d.layerARN
        status = d.status.rawValue
        detail = d.detail
        tokenId = d.tokenID
        changedMs = d.changedMs
    }

    var deployment: Deployment {
        Deployment(policyID: policyId, policyVersion: policyVersion, layerARN: layerArn, status: DeploymentStatus(rawValue: status) ?? .failed,
                   detail: detail, tokenID: tokenId, changedMs: changedMs)
    }
}

/// A managed layer version published in the account (content-addressed by `key`).
public struct AgentLayerVersion: Codable, Sendable, Equatable {
    public var key: String
    public var region: String
    public var arn: String
    public var architecture: String
}

/// What an agent posts to `POST /api/v1/agent/report` after a pass: the inventory of the regions it
/// listed (the same facts as the server's own sync: environment variable names, never values), each
/// function's deployment, the pass's per-function outcomes and the layer versions it keeps.
public struct AgentReport: Codable, Sendable, Equatable {
    public struct Region: Codable, Sendable, Equatable {
        public var region: String
        /// Why the region could not be listed (its inventory is then left as the server has it).
        public var error: String?
    }

    public struct Function: Codable, Sendable, Equatable {
        public var arn: String
        public var region: String
        public var name: String
        public var runtime: String?
        public var architecture: String
        public var packageType: String
        public var tags: [String: String]
        public var layers: [String]
        public var role: String?
        public var environmentNames: [String]
        public var updateStatus: String?
        public var deployment: AgentDeployment
    }

    public struct Outcome: Codable, Sendable, Equatable {
        public var arn: String
        public var name: String
        public var region: String
        public var policyId: String?
        public var policyName: String?
        public var policyVersion: Int64?
        public var outcome: String
        public var detail: String
        public var repeated: Bool
    }

    public var accountId: String
    public var startedMs: Int64
    public var finishedMs: Int64
    public var awsCalls: Int
    public var regions: [Region]
    public var functions: [Function]
    public var outcomes: [Outcome]
    public var layerVersions: [AgentLayerVersion]
}

enum AgentJSON {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = .sortedKeys
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    /// `functions[3].arn` from a decoding error's path (snake_case, as the client wrote it).
    static func field(of error: any Error) -> (field: String, reason: String) {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for key in keys {
                if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + snake(key.stringValue) }
            }
            return out.isEmpty ? "body" : out
        }
        switch error as? DecodingError {
        case .typeMismatch(let type, let c)?: return (path(c.codingPath), "must be \(describe(type))")
        case .valueNotFound(let type, let c)?: return (path(c.codingPath), "must be \(describe(type)), not null")
        case .keyNotFound(let key, let c)?: return (path(c.codingPath + [key]), "is required")
        case .dataCorrupted(let c)?: return (path(c.codingPath), "is not valid JSON here")
        default: return ("body", "is not a valid report")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int64.Type, is Int.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        default: return type is [Any].Type ? "an array" : "an object of the documented shape"
        }
    }

    private static func snake(_ key: String) -> String {
        var out = ""
        for c in key { if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) } }
        return out
    }
}
