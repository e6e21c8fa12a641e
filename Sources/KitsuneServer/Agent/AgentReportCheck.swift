import Foundation

/// Checks an agent's report as the hostile input it may be (a stolen agent token, a compromised
/// account): every field by type, size and shape, every ARN in the agent's own account and in a
/// region the report covers. A refusal is a 400 (403 for another account) naming the field.
struct AgentReportCheck {
    let account: AWSAccountRecord
    /// Function tokens of the account's group (live or revoked): the only token ids a deployment may name.
    let tokenIDs: Set<String>

    static let maxFunctions = 20_000
    static let maxBodyBytes = 32 << 20

    /// The report as the store applies it: the listed regions, their inventory, their layer versions.
    struct Checked {
        var syncedRegions: [String]
        var regionErrors: [(region: String, error: String)]
        var functions: [InventoryFunction]
        var layerVersions: [AgentLayerVersion]
        var report: ReconcileReport
    }

    func check(_ r: AgentReport) throws -> Checked {
        guard r.accountId == account.accountID else {
            throw APIError(.forbidden, "this agent's token is for account \(account.accountID)", field: "account_id")
        }
        guard (1...30).contains(r.regions.count) else { throw APIError(.badRequest, "must list 1 to 30 regions", field: "regions") }
        var seenRegions = Set<String>()
        for (i, region) in r.regions.enumerated() {
            guard account.regions.contains(region.region) else {
                throw APIError(.badRequest, "is not one of the account's regions (\(account.regions.joined(separator: ", ")))", field: "regions[\(i)].region")
            }
            guard seenRegions.insert(region.region).inserted else { throw APIError(.badRequest, "is listed twice", field: "regions[\(i)].region") }
            try text(region.error, max: 2000, "regions[\(i)].error")
        }
        let synced = Set(r.regions.filter { $0.error == nil }.map(\.region))
        guard r.functions.count <= Self.maxFunctions, r.outcomes.count <= Self.maxFunctions else {
            throw APIError(.contentTooLarge, "at most \(Self.maxFunctions) functions per report", field: "functions")
        }
        guard r.startedMs >= 0, r.finishedMs >= r.startedMs, (0...10_000_000).contains(r.awsCalls) else {
            throw APIError(.badRequest, "must be a non-negative time before finished_ms", field: "started_ms")
        }
        var arns = Set<String>(), functions: [InventoryFunction] = []
        let now = Timestamps.nowMs()
        for (i, f) in r.functions.enumerated() {
            let at = "functions[\(i)]"
            try functionARN(f.arn, name: f.name, region: f.region, field: at)
            guard synced.contains(f.region) else { throw APIError(.badRequest, "is not a region this report lists as synced", field: "\(at).region") }
            guard arns.insert(f.arn).inserted else { throw APIError(.badRequest, "is listed twice", field: "\(at).arn") }
            try text(f.runtime, max: 64, "\(at).runtime")
            guard ["x86_64", "arm64"].contains(f.architecture) else { throw APIError(.badRequest, "must be x86_64 or arm64", field: "\(at).architecture") }
            guard ["Zip", "Image"].contains(f.packageType) else { throw APIError(.badRequest, "must be Zip or Image", field: "\(at).package_type") }
            guard f.tags.count <= 50 else { throw APIError(.badRequest, "at most 50 tags", field: "\(at).tags") }
            for (k, v) in f.tags {
                guard (1...128).contains(k.utf8.count), v.utf8.count <= 256, !hasControl(k), !hasControl(v) else {
                    throw APIError(.badRequest, "tag keys are 1 to 128 and values up to 256 characters, without control characters", field: "\(at).tags")
                }
            }
            guard f.layers.count <= 15 else { throw APIError(.badRequest, "at most 15 layers", field: "\(at).layers") }
            for (j, layer) in f.layers.enumerated() { try layerARN(layer, field: "\(at).layers[\(j)]", sameAccount: false) }
            try text(f.role, max: 2048, "\(at).role")
            guard f.environmentNames.count <= 1000 else { throw APIError(.badRequest, "at most 1000 names", field: "\(at).environment_names") }
            for (j, name) in f.environmentNames.enumerated() where !Self.isVariableName(name) {
                throw APIError(.badRequest, "must be an environment variable's name (letters, digits, _), never its value", field: "\(at).environment_names[\(j)]")
            }
            try text(f.updateStatus, max: 32, "\(at).update_status")
            let deployment = try self.deployment(f.deployment, field: "\(at).deployment")
            functions.append(InventoryFunction(arn: f.arn, accountID: account.accountID, region: f.region, name: f.name, runtime: f.runtime,
                                               architecture: f.architecture, packageType: f.packageType, tags: f.tags, layers: f.layers, role: f.role,
                                               environmentNames: f.environmentNames, updateStatus: f.updateStatus, syncedMs: now, deployment: deployment))
        }
        var report = ReconcileReport(startedMs: r.startedMs)
        report.finishedMs = r.finishedMs
        report.awsCalls = r.awsCalls
        for (i, o) in r.outcomes.enumerated() {
            let at = "outcomes[\(i)]"
            try functionARN(o.arn, name: o.name, region: o.region, field: at)
            guard let outcome = ReconcileReport.Outcome(rawValue: o.outcome) else {
                throw APIError(.badRequest, "must be one of \(ReconcileReport.Outcome.allCases.map(\.rawValue).joined(separator: ", "))", field: "\(at).outcome")
            }
            try policyID(o.policyId, field: "\(at).policy_id")
            try text(o.policyName, max: 128, "\(at).policy_name")
            try text(o.detail, max: 2000, "\(at).detail")
            report.items.append(.init(arn: o.arn, name: o.name, account: account.accountID, region: o.region, policyID: o.policyId, policyName: o.policyName,
                                      policyVersion: o.policyVersion, outcome: outcome, detail: o.detail, repeated: o.repeated))
        }
        guard r.layerVersions.count <= 1000 else { throw APIError(.badRequest, "at most 1000 layer versions", field: "layer_versions") }
        for (i, l) in r.layerVersions.enumerated() {
            let at = "layer_versions[\(i)]"
            guard l.key.utf8.count == 32, l.key.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                throw APIError(.badRequest, "must be a 32-digit hex content key", field: "\(at).key")
            }
            guard synced.contains(l.region) else { throw APIError(.badRequest, "is not a region this report lists as synced", field: "\(at).region") }
            try layerARN(l.arn, field: "\(at).arn", sameAccount: true, region: l.region)
            guard ["x86_64", "arm64"].contains(l.architecture) else { throw APIError(.badRequest, "must be x86_64 or arm64", field: "\(at).architecture") }
        }
        report.failures = r.regions.compactMap { region in region.error.map { .init(account: account.accountID, region: region.region, error: $0) } }
        return Checked(syncedRegions: r.regions.filter { $0.error == nil }.map(\.region),
                       regionErrors: r.regions.compactMap { region in region.error.map { (region.region, $0) } },
                       functions: functions, layerVersions: r.layerVersions, report: report)
    }

    private func deployment(_ d: AgentDeployment, field: String) throws -> Deployment {
        guard let status = DeploymentStatus(rawValue: d.status) else {
            throw APIError(.badRequest, "must be one of \(DeploymentStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "\(field).status")
        }
        try policyID(d.policyId, field: "\(field).policy_id")
        if let v = d.policyVersion, v < 1 { throw APIError(.badRequest, "must be a positive version", field: "\(field).policy_version") }
        if let layer = d.layerArn { try layerARN(layer, field: "\(field).layer_arn", sameAccount: true) }
        try text(d.detail, max: 2000, "\(field).detail")
        if let token = d.tokenId, !tokenIDs.contains(token) {
            throw APIError(.badRequest, "is not a function token of this account", field: "\(field).token_id")
        }
        return Deployment(policyID: d.policyId, policyVersion: d.policyVersion, layerARN: d.layerArn, status: status, detail: d.detail,
                          tokenID: d.tokenId, changedMs: d.changedMs)
    }

    /// `arn:aws…:lambda:REGION:ACCOUNT:function:NAME`, in this account, agreeing with `name` and `region`.
    private func functionARN(_ arn: String, name: String, region: String, field: String) throws {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard arn.utf8.count <= 256, parts.count == 7, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "lambda", parts[5] == "function" else {
            throw APIError(.badRequest, "must be a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", field: "\(field).arn")
        }
        guard parts[4] == account.accountID else {
            throw APIError(.forbidden, "is in another account than this agent's (\(account.accountID))", field: "\(field).arn")
        }
        guard parts[3] == region, account.regions.contains(region) else {
            throw APIError(.badRequest, "must be one of the account's regions and agree with the ARN", field: "\(field).region")
        }
        guard parts[6] == name, (1...64).contains(name.utf8.count),
              name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }) else {
            throw APIError(.badRequest, "must be the function's name (1 to 64 letters, digits, - and _), as in its ARN", field: "\(field).name")
        }
    }

    private func layerARN(_ arn: String, field: String, sameAccount: Bool, region: String? = nil) throws {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard arn.utf8.count <= 2048, parts.count == 8, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "lambda", parts[5] == "layer",
              Int(parts[7]) != nil, !hasControl(arn) else {
            throw APIError(.badRequest, "must be a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)", field: field)
        }
        if sameAccount, parts[4] != account.accountID { throw APIError(.forbidden, "is in another account than this agent's", field: field) }
        if let region, parts[3] != region { throw APIError(.badRequest, "is not in region \(region)", field: field) }
    }

    private func policyID(_ id: String?, field: String) throws {
        guard let id else { return }
        guard id.utf8.count <= 64, id.hasPrefix("pol_"), id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) || $0 == 95 }) else {
            throw APIError(.badRequest, "must be a policy id (pol_…)", field: field)
        }
    }

    private func text(_ value: String?, max: Int, _ field: String) throws {
        guard let value else { return }
        guard value.utf8.count <= max else { throw APIError(.badRequest, "at most \(max) bytes", field: field) }
        guard !value.unicodeScalars.contains(where: { $0.value == 0 }) else { throw APIError(.badRequest, "must not contain NUL", field: field) }
    }

    private func hasControl(_ s: String) -> Bool { s.unicodeScalars.contains { $0.properties.generalCategory == .control } }

    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.utf8.first, (1...256).contains(s.utf8.count), !(first >= 48 && first <= 57) else { return false }
        return s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
    }
}
