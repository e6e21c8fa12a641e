import Foundation

/// AWS Lambda (REST-JSON).
public struct LambdaClient: Sendable {
    let client: AWSClient

    private func get<T: Decodable>(_ type: T.Type, _ action: String, _ path: String,
                                   query: [QueryItem] = []) async throws -> T {
        let body = try await client.restJSON(service: "lambda", action: action, method: "GET", path: path, query: query)
        return try client.decode(type, body, action: "lambda:\(action)")
    }

    private func name(_ value: String) -> String { AWSURIEncoding.encode(value) }

    /// `ListFunctions`, following `NextMarker`. `onPage` gets the running count (progress).
    public func listFunctions(pageSize: Int = 50,
                              onPage: (@Sendable (Int) -> Void)? = nil) async throws -> [LambdaFunctionConfiguration] {
        struct Page: Decodable {
            let Functions: [LambdaFunctionConfiguration]?
            let NextMarker: String?
        }
        var all: [LambdaFunctionConfiguration] = []
        var marker: String?
        var seen: Set<String> = []
        repeat {
            var query = [QueryItem("MaxItems", String(max(1, min(pageSize, 50))))]
            if let marker { query.append(QueryItem("Marker", marker)) }
            let page = try await get(Page.self, "ListFunctions", "/2015-03-31/functions/", query: query)
            all += page.Functions ?? []
            onPage?(all.count)
            marker = page.NextMarker.flatMap { $0.isEmpty ? nil : $0 }
            if let next = marker, !seen.insert(next).inserted {
                throw AWSError.invalidResponse(action: "lambda:ListFunctions", detail: "paging marker repeated; stopping")
            }
        } while marker != nil
        return all
    }

    /// `GetFunction`: configuration, code location and tags.
    public func getFunction(_ function: String) async throws -> LambdaGetFunctionOutput {
        try await get(LambdaGetFunctionOutput.self, "GetFunction", "/2015-03-31/functions/\(name(function))")
    }

    /// `GetFunctionConfiguration`.
    public func getFunctionConfiguration(_ function: String) async throws -> LambdaFunctionConfiguration {
        try await get(LambdaFunctionConfiguration.self, "GetFunctionConfiguration",
                      "/2015-03-31/functions/\(name(function))/configuration")
    }

    /// `ListTags` of a function ARN.
    public func listTags(_ arn: String) async throws -> [String: String] {
        struct Tags: Decodable { let Tags: [String: String]? }
        return try await get(Tags.self, "ListTags", "/2017-03-31/tags/\(name(arn))").Tags ?? [:]
    }

    /// `TagResource` on a function ARN.
    public func tagResource(_ arn: String, tags: [String: String]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["Tags": tags])
        _ = try await client.restJSON(service: "lambda", action: "TagResource", method: "POST", path: "/2017-03-31/tags/\(name(arn))", body: Array(body))
    }

    /// `UntagResource` on a function ARN.
    public func untagResource(_ arn: String, keys: [String]) async throws {
        _ = try await client.restJSON(service: "lambda", action: "UntagResource", method: "DELETE", path: "/2017-03-31/tags/\(name(arn))",
                                      query: keys.map { QueryItem("tagKeys", $0) })
    }

    /// `GetPolicy`: the resource-based policy JSON, nil when the function has none.
    public func getPolicy(_ function: String) async throws -> String? {
        struct Policy: Decodable { let Policy: String? }
        do {
            return try await get(Policy.self, "GetPolicy", "/2015-03-31/functions/\(name(function))/policy").Policy
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }

    /// `GetFunctionUrlConfig`, nil when the function has no URL.
    public func getFunctionUrlConfig(_ function: String) async throws -> LambdaFunctionURLConfig? {
        do {
            return try await get(LambdaFunctionURLConfig.self, "GetFunctionUrlConfig",
                                 "/2021-10-31/functions/\(name(function))/url")
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }

    /// `GetFunctionCodeSigningConfig`: the code signing config ARN, nil when none.
    public func getFunctionCodeSigningConfig(_ function: String) async throws -> String? {
        struct Output: Decodable { let CodeSigningConfigArn: String? }
        let output = try await get(Output.self, "GetFunctionCodeSigningConfig",
                                   "/2020-06-30/functions/\(name(function))/code-signing-config")
        return output.CodeSigningConfigArn.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `GetFunctionConcurrency`: the reserved concurrency, nil when none is set.
    public func getFunctionConcurrency(_ function: String) async throws -> Int? {
        struct Output: Decodable { let ReservedConcurrentExecutions: Int? }
        return try await get(Output.self, "GetFunctionConcurrency",
                             "/2019-09-30/functions/\(name(function))/concurrency").ReservedConcurrentExecutions
    }

    /// `ListLayerVersions` (all pages).
    public func listLayerVersions(_ layer: String) async throws -> [LambdaLayerVersion] {
        struct Page: Decodable { let LayerVersions: [LambdaLayerVersion]?; let NextMarker: String? }
        var all: [LambdaLayerVersion] = []
        var marker: String?
        var seen: Set<String> = []
        repeat {
            var query = [QueryItem("MaxItems", "50")]
            if let marker { query.append(QueryItem("Marker", marker)) }
            let page = try await get(Page.self, "ListLayerVersions", "/2018-10-31/layers/\(name(layer))/versions",
                                     query: query)
            all += page.LayerVersions ?? []
            marker = page.NextMarker.flatMap { $0.isEmpty ? nil : $0 }
            if let next = marker, !seen.insert(next).inserted {
                throw AWSError.invalidResponse(action: "lambda:ListLayerVersions", detail: "paging marker repeated; stopping")
            }
        } while marker != nil
        return all
    }

    /// `GetLayerVersion`.
    public func getLayerVersion(_ layer: String, version: Int) async throws -> LambdaLayerVersion {
        try await get(LambdaLayerVersion.self, "GetLayerVersion", "/2018-10-31/layers/\(name(layer))/versions/\(version)")
    }

    /// `GetLayerVersion` by full layer version ARN (`arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`).
    public func getLayerVersion(arn: String) async throws -> LambdaLayerVersion {
        let parsed = try LayerARN(arn)
        return try await getLayerVersion(parsed.unversioned, version: parsed.version)
    }

    /// `UpdateFunctionConfiguration`: one call, so the function is either fully old or fully new.
    @discardableResult
    public func updateFunctionConfiguration(_ function: String,
                                            _ update: LambdaConfigurationUpdate) async throws -> LambdaFunctionConfiguration {
        let body = try JSONEncoder().encode(update)
        let answer = try await client.restJSON(service: "lambda", action: "UpdateFunctionConfiguration", method: "PUT",
                                               path: "/2015-03-31/functions/\(name(function))/configuration",
                                               body: Array(body))
        return try client.decode(LambdaFunctionConfiguration.self, answer, action: "lambda:UpdateFunctionConfiguration")
    }

    /// `PublishLayerVersion` from a zip archive. Kitsune's layer is native code: publish one per
    /// architecture with `compatibleArchitectures` (`x86_64` or `arm64`).
    public func publishLayerVersion(_ layer: String, zip: [UInt8], description: String? = nil,
                                    compatibleRuntimes: [String] = [], compatibleArchitectures: [String] = []) async throws -> LambdaLayerVersion {
        var object: [String: Any] = ["Content": ["ZipFile": Data(zip).base64EncodedString()]]
        if let description { object["Description"] = description }
        if !compatibleRuntimes.isEmpty { object["CompatibleRuntimes"] = compatibleRuntimes }
        if !compatibleArchitectures.isEmpty { object["CompatibleArchitectures"] = compatibleArchitectures }
        let body = try JSONSerialization.data(withJSONObject: object)
        let answer = try await client.restJSON(service: "lambda", action: "PublishLayerVersion", method: "POST",
                                               path: "/2018-10-31/layers/\(name(layer))/versions", body: Array(body))
        return try client.decode(LambdaLayerVersion.self, answer, action: "lambda:PublishLayerVersion")
    }

    /// `DeleteLayerVersion` (functions already using it keep their copy).
    public func deleteLayerVersion(arn: String) async throws {
        let parsed = try LayerARN(arn)
        _ = try await client.restJSON(service: "lambda", action: "DeleteLayerVersion", method: "DELETE",
                                      path: "/2018-10-31/layers/\(name(parsed.unversioned))/versions/\(parsed.version)")
    }

    /// `CreateFunction` (zip package).
    @discardableResult
    public func createFunction(_ input: LambdaCreateFunctionInput) async throws -> LambdaFunctionConfiguration {
        var object: [String: Any] = [
            "FunctionName": input.name, "Runtime": input.runtime, "Role": input.role, "Handler": input.handler,
            "Code": ["ZipFile": Data(input.zip).base64EncodedString()],
        ]
        if !input.layers.isEmpty { object["Layers"] = input.layers }
        if !input.environment.isEmpty { object["Environment"] = ["Variables": input.environment] }
        if !input.tags.isEmpty { object["Tags"] = input.tags }
        if !input.architectures.isEmpty { object["Architectures"] = input.architectures }
        let body = try JSONSerialization.data(withJSONObject: object)
        let answer = try await client.restJSON(service: "lambda", action: "CreateFunction", method: "POST",
                                               path: "/2015-03-31/functions", body: Array(body))
        return try client.decode(LambdaFunctionConfiguration.self, answer, action: "lambda:CreateFunction")
    }
}

/// A parsed layer version ARN: `arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME:VERSION`.
public struct LayerARN: Sendable, Equatable {
    public let partition: String
    public let region: String
    public let account: String
    public let name: String
    public let version: Int

    /// Parses `text`; throws a clear error naming the ARN and what is wrong.
    public init(_ text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 7, parts[0] == "arn", parts[2] == "lambda", parts[5] == "layer" {
            throw AWSError.invalidInput("layer ARN '\(text)' has no version; append :VERSION (a layer is attached by version)")
        }
        guard parts.count == 8, parts[0] == "arn", parts[2] == "lambda", parts[5] == "layer" else {
            throw AWSError.invalidInput("'\(text)' is not a Lambda layer version ARN (expected arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)")
        }
        guard parts[4].count == 12, parts[4].allSatisfy(\.isNumber) else {
            throw AWSError.invalidInput("layer ARN '\(text)': account '\(parts[4])' is not a 12-digit account id")
        }
        guard !parts[3].isEmpty else { throw AWSError.invalidInput("layer ARN '\(text)': region is empty") }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard !parts[6].isEmpty, parts[6].count <= 140, parts[6].allSatisfy({ allowed.contains($0) }) else {
            throw AWSError.invalidInput("layer ARN '\(text)': layer name '\(parts[6])' is invalid")
        }
        guard let version = Int(parts[7]), version > 0 else {
            throw AWSError.invalidInput("layer ARN '\(text)': version '\(parts[7])' is not a positive number (a layer ARN without version cannot be attached)")
        }
        partition = parts[1]
        region = parts[3]
        account = parts[4]
        name = parts[6]
        self.version = version
    }

    /// The ARN without the version (identifies the layer across versions).
    public var unversioned: String { "arn:\(partition):lambda:\(region):\(account):layer:\(name)" }
    /// The full version ARN.
    public var arn: String { "\(unversioned):\(version)" }
}
