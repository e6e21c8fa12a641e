import Foundation
import KitsuneAWS

/// What to collect: regions, and which functions (name glob, tags).
public struct CollectorOptions: Sendable {
    public var regions: [String]
    /// IAM-style glob (`*`, `?`) on the function name; nil selects all.
    public var functionGlob: String?
    /// Every tag must match (values may be globs).
    public var tags: [String: String]
    /// Calls in flight at once (large accounts).
    public var concurrency: Int
    /// Progress lines (the CLI shows them on a TTY only).
    public var progress: (@Sendable (String) -> Void)?

    public init(regions: [String], functionGlob: String? = nil, tags: [String: String] = [:], concurrency: Int = 8,
                progress: (@Sendable (String) -> Void)? = nil) {
        self.regions = regions
        self.functionGlob = functionGlob
        self.tags = tags
        self.concurrency = concurrency
        self.progress = progress
    }
}

/// Fills an ``AccountSnapshot`` from the live account through KitsuneAWS. A call that fails becomes an
/// `.unavailable` fact naming the action and the error (checks then say MANUAL, never PASS); failures
/// other than AccessDenied (throttling, network, service errors) also mark the snapshot incomplete.
/// Only credential failures abort the run.
public struct SnapshotCollector: Sendable {
    public var client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    /// Collects the account. Throws only when no call can succeed (missing/expired/invalid credentials).
    public func collect(_ options: CollectorOptions) async throws -> AccountSnapshot {
        let log = CollectorLog()
        let accountID: String?
        do { accountID = try await client.sts.getCallerIdentity().account } catch {
            try Self.rethrowIfFatal(error)
            await log.note("sts:GetCallerIdentity failed: \(error)")
            accountID = nil
        }
        var functions: [LambdaFunction] = []
        var regions: [RegionSnapshot] = []
        var roleUsers: [String: [String]] = [:]
        for region in options.regions {
            let regional = client.inRegion(region)
            regions.append(RegionSnapshot(region: region, configRecorder: await configRecorder(regional, log: log)))
            let listed: [LambdaFunctionConfiguration]
            do {
                listed = try await regional.lambda.listFunctions { count in
                    options.progress?("\(region): listed \(count) functions")
                }
            } catch {
                try Self.rethrowIfFatal(error)
                await log.note("lambda:ListFunctions in \(region) failed, its functions are not checked: \(error)")
                continue
            }
            for configuration in listed {
                if let role = configuration.role { roleUsers[role, default: []].append(configuration.functionName) }
            }
            let named = listed.filter { configuration in
                options.functionGlob.map { Wildcard.matches($0, configuration.functionName) } ?? true
            }
            let results = await boundedMap(named, limit: options.concurrency, progress: { done, total in
                options.progress?("\(region): read \(done)/\(total) functions")
            }) { configuration in
                try await self.function(configuration, region: region, account: accountID, options: options, log: log)
            }
            for (configuration, result) in zip(named, results) {
                switch result {
                case .success(let function?): functions.append(function)
                case .success(nil): continue
                case .failure(let error):
                    try Self.rethrowIfFatal(error)
                    await log.note("\(configuration.functionName) in \(region) could not be read: \(error)")
                }
            }
        }
        let roles = await collectRoles(for: functions, options: options, log: log)
        return AccountSnapshot(accountID: accountID, regions: regions, functions: functions, roles: roles,
                               incomplete: await log.notes, roleUsers: roleUsers)
    }

    /// One function's facts; nil when a tag filter excludes it.
    private func function(_ c: LambdaFunctionConfiguration, region: String, account: String?,
                          options: CollectorOptions, log: CollectorLog) async throws -> LambdaFunction? {
        let lambda = client.inRegion(region).lambda
        let tags = await observe("lambda:ListTags", log) { try await lambda.listTags(c.functionArn) }
        if !options.tags.isEmpty {
            guard let known = tags.value else {
                await log.note("\(c.functionName): tags unreadable (\(tags.reason ?? "")), so the tag filter could not select it")
                return nil
            }
            let selected = options.tags.allSatisfy { key, value in known[key].map { Wildcard.matches(value, $0) } ?? false }
            if !selected { return nil }
        }
        async let policy = observe("lambda:GetPolicy", log) { try await lambda.getPolicy(c.functionName).map(PolicyBody.text) }
        async let url = observe("lambda:GetFunctionUrlConfig", log) {
            try await lambda.getFunctionUrlConfig(c.functionName).map { FunctionURLConfig(authType: $0.authType, url: $0.functionUrl) }
        }
        async let signing = observe("lambda:GetFunctionCodeSigningConfig", log) { try await lambda.getFunctionCodeSigningConfig(c.functionName) }
        async let concurrency = observe("lambda:GetFunctionConcurrency", log) { try await lambda.getFunctionConcurrency(c.functionName) != nil }
        let isImage = c.packageType == "Image"
        return LambdaFunction(
            name: c.functionName, arn: c.functionArn, region: region,
            account: Self.field(c.functionArn, 4) ?? account,
            runtime: .known(isImage ? nil : c.runtime), roleKey: .known(c.role), roleArn: c.role,
            environment: .known(c.variables.mapValues { JSONValue.string($0) }),
            kmsKeyArn: .known(c.kmsKeyArn.flatMap { $0.isEmpty ? nil : $0 }),
            tracingMode: .known(c.tracingConfig?.mode), layers: .known(c.layerARNs),
            inVPC: .known(c.isInVPC), reservedConcurrency: await concurrency, deadLetterTarget: .known(c.deadLetterTargetArn),
            codeSigningConfigArn: await signing, url: await url, resourcePolicy: await policy, tags: tags)
    }

    /// CIS 4.1 facts of one region: a recorder that is started and covers `AWS::Lambda::Function`.
    func configRecorder(_ regional: AWSClient, log: CollectorLog) async -> Observed<ConfigRecorderStatus> {
        let recorders = await observe("config:DescribeConfigurationRecorders", log) {
            try await regional.config.describeConfigurationRecorders()
        }
        guard let recorders = recorders.value else { return .unavailable(recorders.reason ?? "") }
        if recorders.isEmpty { return .known(ConfigRecorderStatus(exists: false, recording: false, recordsLambda: false)) }
        let statuses = await observe("config:DescribeConfigurationRecorderStatus", log) {
            try await regional.config.describeConfigurationRecorderStatus()
        }
        guard let statuses = statuses.value else { return .unavailable(statuses.reason ?? "") }
        let started = Set(statuses.filter { $0.recording == true }.compactMap(\.name))
        let running = recorders.filter { started.contains($0.name ?? "") }
        return .known(ConfigRecorderStatus(exists: true, recording: !running.isEmpty,
                                           recordsLambda: running.contains { $0.records("AWS::Lambda::Function") }))
    }

    /// Every execution role used by `functions`, with inline and attached policy documents.
    private func collectRoles(for functions: [LambdaFunction], options: CollectorOptions,
                              log: CollectorLog) async -> [String: ExecutionRole] {
        let arns = Array(Set(functions.compactMap(\.roleArn))).sorted()
        let iam = client.iam
        let cache = ManagedPolicyCache()
        let results = await boundedMap(arns, limit: options.concurrency, progress: { done, total in
            options.progress?("IAM: read \(done)/\(total) roles")
        }) { arn -> ExecutionRole in
            let name = arn.split(separator: "/").last.map(String.init) ?? arn
            let exists: Observed<Bool>
            do {
                _ = try await iam.getRole(name)
                exists = .known(true)
            } catch let error as AWSError where error.isNotFound {
                exists = .known(false)
            } catch {
                exists = .unavailable("iam:GetRole: \(error)")
                if !((error as? AWSError)?.isAccessDenied ?? false) { await log.note("iam:GetRole \(name): \(error)") }
            }
            guard exists.value == true else {
                return ExecutionRole(key: arn, arn: arn, name: name, exists: exists, managedPolicies: .known([]), inlinePolicies: .known([]))
            }
            let inline = await self.observe("iam:ListRolePolicies", log) {
                var out: [InlinePolicy] = []
                for policy in try await iam.listRolePolicies(name) {
                    let document = await self.observe("iam:GetRolePolicy", log) {
                        PolicyBody.text(try await iam.getRolePolicy(name, policyName: policy).document)
                    }
                    out.append(InlinePolicy(name: policy, document: document))
                }
                return out
            }
            let managed = await self.observe("iam:ListAttachedRolePolicies", log) {
                var out: [ManagedPolicyAttachment] = []
                for attached in try await iam.listAttachedRolePolicies(name) {
                    let document = await cache.document(attached.policyARN) {
                        await self.observe("iam:GetPolicyVersion", log) {
                            let policy = try await iam.getPolicy(attached.policyARN)
                            return PolicyBody.text(try await iam.getPolicyVersion(attached.policyARN, versionID: policy.defaultVersionID).document)
                        }
                    }
                    out.append(ManagedPolicyAttachment(arn: attached.policyARN, name: attached.policyName, document: document))
                }
                return out
            }
            return ExecutionRole(key: arn, arn: arn, name: name, exists: exists, managedPolicies: managed, inlinePolicies: inline)
        }
        var roles: [String: ExecutionRole] = [:]
        for (arn, result) in zip(arns, results) {
            if case .success(let role) = result { roles[arn] = role } else if case .failure(let error) = result {
                await log.note("role \(arn) could not be read: \(error)")
            }
        }
        return roles
    }

    /// Runs `body`; a failure becomes `.unavailable` naming `action` and the error.
    private func observe<T: Sendable>(_ action: String, _ log: CollectorLog,
                                      _ body: @Sendable () async throws -> T) async -> Observed<T> {
        do { return .known(try await body()) } catch {
            if let aws = error as? AWSError, !aws.isAccessDenied {
                await log.note("\(action) failed: \(aws)")
            }
            if let aws = error as? AWSError, aws.isAccessDenied { return .unavailable("AccessDenied for \(action)") }
            return .unavailable("\(action) failed: \(error)")
        }
    }

    /// Credential problems stop the run: nothing else can succeed.
    static func rethrowIfFatal(_ error: any Error) throws {
        guard let aws = error as? AWSError else { return }
        switch aws {
        case .missingCredentials, .expiredCredentials, .invalidCredentials, .invalidConfiguration: throw aws
        default: return
        }
    }

    static func field(_ arn: String, _ index: Int) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return index < parts.count && !parts[index].isEmpty ? String(parts[index]) : nil
    }
}

/// Managed policy documents by ARN, fetched once per run even when thousands of roles attach the same
/// policy (AWSLambdaBasicExecutionRole); concurrent requests for one ARN share one fetch.
actor ManagedPolicyCache {
    private var entries: [String: Task<Observed<PolicyBody>, Never>] = [:]

    func document(_ arn: String, fetch: @escaping @Sendable () async -> Observed<PolicyBody>) async -> Observed<PolicyBody> {
        if let existing = entries[arn] { return await existing.value }
        let task = Task { await fetch() }
        entries[arn] = task
        return await task.value
    }
}

/// Notes about API failures that make the snapshot incomplete, gathered from concurrent tasks.
actor CollectorLog {
    private(set) var notes: [String] = []
    func note(_ text: String) { notes.append(text) }
}
