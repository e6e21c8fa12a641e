import Foundation

/// A Lambda function's configuration (the fields Kitsune uses; unknown fields are ignored).
public struct LambdaFunctionConfiguration: Codable, Sendable, Equatable {
    public var functionName: String
    public var functionArn: String
    public var runtime: String?
    public var role: String?
    public var handler: String?
    public var codeSize: Int?
    public var description: String?
    public var timeout: Int?
    public var memorySize: Int?
    public var lastModified: String?
    public var codeSha256: String?
    public var version: String?
    public var kmsKeyArn: String?
    public var tracingConfig: TracingConfig?
    public var layers: [LayerReference]?
    public var environment: Environment?
    public var state: String?
    public var lastUpdateStatus: String?
    public var packageType: String?
    public var architectures: [String]?
    public var revisionId: String?
    public var signingProfileVersionArn: String?
    /// `VpcConfig`: subnets and security groups when the function is attached to a VPC.
    public var vpcConfig: VpcConfig?
    /// `DeadLetterConfig`: where failed asynchronous events go (SQS queue or SNS topic ARN).
    public var deadLetterConfig: DeadLetterConfig?

    enum CodingKeys: String, CodingKey {
        case functionName = "FunctionName", functionArn = "FunctionArn", runtime = "Runtime", role = "Role"
        case handler = "Handler", codeSize = "CodeSize", description = "Description", timeout = "Timeout"
        case memorySize = "MemorySize", lastModified = "LastModified", codeSha256 = "CodeSha256", version = "Version"
        case kmsKeyArn = "KMSKeyArn", tracingConfig = "TracingConfig", layers = "Layers", environment = "Environment"
        case state = "State", lastUpdateStatus = "LastUpdateStatus", packageType = "PackageType"
        case architectures = "Architectures", revisionId = "RevisionId"
        case signingProfileVersionArn = "SigningProfileVersionArn"
        case vpcConfig = "VpcConfig", deadLetterConfig = "DeadLetterConfig"
    }

    /// `VpcConfig`. AWS returns it with empty lists and an empty `VpcId` for functions outside a VPC.
    public struct VpcConfig: Codable, Sendable, Equatable {
        public var subnetIds: [String]?
        public var securityGroupIds: [String]?
        public var vpcId: String?
        enum CodingKeys: String, CodingKey { case subnetIds = "SubnetIds", securityGroupIds = "SecurityGroupIds", vpcId = "VpcId" }
    }

    /// `DeadLetterConfig`.
    public struct DeadLetterConfig: Codable, Sendable, Equatable {
        public var targetArn: String?
        enum CodingKeys: String, CodingKey { case targetArn = "TargetArn" }
    }

    /// `TracingConfig`.
    public struct TracingConfig: Codable, Sendable, Equatable {
        public var mode: String?
        enum CodingKeys: String, CodingKey { case mode = "Mode" }
    }

    /// One attached layer version.
    public struct LayerReference: Codable, Sendable, Equatable {
        public var arn: String
        public var codeSize: Int?
        enum CodingKeys: String, CodingKey { case arn = "Arn", codeSize = "CodeSize" }
    }

    /// Environment variables (plaintext as returned by the API).
    public struct Environment: Codable, Sendable, Equatable {
        public var variables: [String: String]?
        enum CodingKeys: String, CodingKey { case variables = "Variables" }
    }

    /// Layer ARNs (empty when none).
    public var layerARNs: [String] { layers?.map(\.arn) ?? [] }
    /// Environment variables (empty when none).
    public var variables: [String: String] { environment?.variables ?? [:] }
    /// True when the function is attached to a VPC (a VPC id or at least one subnet).
    public var isInVPC: Bool {
        !(vpcConfig?.vpcId ?? "").isEmpty || !(vpcConfig?.subnetIds ?? []).isEmpty
    }
    /// The dead-letter target ARN, nil when none is configured.
    public var deadLetterTargetArn: String? { deadLetterConfig?.targetArn.flatMap { $0.isEmpty ? nil : $0 } }
}

/// `GetFunction`'s answer.
public struct LambdaGetFunctionOutput: Codable, Sendable, Equatable {
    public var configuration: LambdaFunctionConfiguration
    public var code: Code?
    public var tags: [String: String]?

    enum CodingKeys: String, CodingKey { case configuration = "Configuration", code = "Code", tags = "Tags" }

    /// Where the deployment package can be downloaded (pre-signed, valid ~10 minutes).
    public struct Code: Codable, Sendable, Equatable {
        public var location: String?
        public var repositoryType: String?
        public var imageUri: String?
        enum CodingKeys: String, CodingKey { case location = "Location", repositoryType = "RepositoryType", imageUri = "ImageUri" }
    }
}

/// A function URL configuration.
public struct LambdaFunctionURLConfig: Codable, Sendable, Equatable {
    public var functionUrl: String
    public var functionArn: String?
    /// `NONE` (public) or `AWS_IAM`.
    public var authType: String
    enum CodingKeys: String, CodingKey { case functionUrl = "FunctionUrl", functionArn = "FunctionArn", authType = "AuthType" }
}

/// A layer version.
public struct LambdaLayerVersion: Codable, Sendable, Equatable {
    public var layerVersionArn: String
    public var layerArn: String?
    public var version: Int
    public var description: String?
    public var createdDate: String?
    public var compatibleRuntimes: [String]?
    public var compatibleArchitectures: [String]?
    public var content: Content?

    enum CodingKeys: String, CodingKey {
        case layerVersionArn = "LayerVersionArn", layerArn = "LayerArn", version = "Version", description = "Description"
        case createdDate = "CreatedDate", compatibleRuntimes = "CompatibleRuntimes", content = "Content"
        case compatibleArchitectures = "CompatibleArchitectures"
    }

    /// The layer archive.
    public struct Content: Codable, Sendable, Equatable {
        public var location: String?
        public var codeSha256: String?
        public var codeSize: Int?
        enum CodingKeys: String, CodingKey { case location = "Location", codeSha256 = "CodeSha256", codeSize = "CodeSize" }
    }
}

/// The part of `UpdateFunctionConfiguration` Kitsune sends. Nil fields are left unchanged by AWS.
public struct LambdaConfigurationUpdate: Encodable, Sendable, Equatable {
    /// The complete new list of layer version ARNs.
    public var layers: [String]?
    /// The complete new set of environment variables.
    public var environment: [String: String]?
    /// Optimistic locking: the update fails if the function changed since this revision was read.
    public var revisionId: String?

    public init(layers: [String]? = nil, environment: [String: String]? = nil, revisionId: String? = nil) {
        self.layers = layers
        self.environment = environment
        self.revisionId = revisionId
    }

    enum CodingKeys: String, CodingKey { case layers = "Layers", environment = "Environment", revisionId = "RevisionId" }
    enum EnvironmentKeys: String, CodingKey { case variables = "Variables" }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(layers, forKey: .layers)
        if let environment {
            var nested = container.nestedContainer(keyedBy: EnvironmentKeys.self, forKey: .environment)
            try nested.encode(environment, forKey: .variables)
        }
        try container.encodeIfPresent(revisionId, forKey: .revisionId)
    }
}

/// The part of `CreateFunction` Kitsune supports (zip packages; used by tests and tooling).
public struct LambdaCreateFunctionInput: Sendable {
    public var name: String
    public var runtime: String
    public var role: String
    public var handler: String
    public var zip: [UInt8]
    public var layers: [String]
    public var environment: [String: String]
    public var tags: [String: String]
    /// `x86_64` or `arm64` (empty: Lambda's default, x86_64).
    public var architectures: [String]

    public init(name: String, runtime: String, role: String, handler: String, zip: [UInt8], layers: [String] = [],
                environment: [String: String] = [:], tags: [String: String] = [:], architectures: [String] = []) {
        self.architectures = architectures
        self.name = name
        self.runtime = runtime
        self.role = role
        self.handler = handler
        self.zip = zip
        self.layers = layers
        self.environment = environment
        self.tags = tags
    }
}
