import Foundation
import KitsuneAWS
import KitsunePolicy

/// One function's step of a pass: its effective policy, its desired configuration (layer, wrapper,
/// events URL, its own token), the one update that gets there, and the deployment record.
struct FunctionReconciler: Sendable {
    let store: ServerStore
    let lambda: LambdaClient
    let layers: LayerPublisher
    let planner: ProtectionPlanner
    let options: ReconcileOptions
    let account: AWSAccountRecord
    let actor: String
    let tokens: any FunctionTokenIssuer

    typealias Item = ReconcileReport.Item

    func reconcile(_ function: LambdaFunctionConfiguration, tags: [String: String]?, record: InventoryFunction?, policies: [StoredPolicy]) async -> Item {
        let region = Self.region(of: function.functionArn)
        var item = Item(arn: function.functionArn, name: function.functionName, account: account.accountID, region: region,
                        outcome: .unchanged, detail: "")
        guard let tags else {
            item.outcome = .failed
            item.detail = "cannot read its tags, so cannot tell which policy covers it; left as it is"
            return await finish(item, record: record, deployment: nil)
        }
        let facts = FunctionFacts(name: function.functionName, account: account.accountID, region: region, runtime: function.runtime,
                                  architecture: function.architectures?.first ?? "x86_64", tags: tags)
        let effective = PolicyPrecedence.effective(for: facts, among: policies) { $0.policy }
        item.policyID = effective?.id
        item.policyName = effective?.policy.name
        item.policyVersion = effective?.version
        let deployedByUs = record?.deployment.tokenID != nil || record?.deployment.status == .protected
        var minted: TokenSecret?
        var target: ProtectionTarget?
        var tokenID: String?
        if let effective {
            // Reasons that need no layer at all come first (image, custom runtime, another wrapper).
            if case .skipped(let why) = planner.decide(function, desired: ProtectionTarget(layerARN: "", variables: [:])) {
                item.outcome = .skipped
                item.detail = why
                return await finish(item, record: record, deployment: Deployment(policyID: effective.id, policyVersion: effective.version, status: .skipped, detail: why))
            }
            guard let eventsURL = options.eventsURL else {
                item.outcome = .failed
                item.detail = "the server has no --public-url, so protected functions would have nowhere to send events"
                return await finish(item, record: record, deployment: Deployment(policyID: effective.id, policyVersion: effective.version, status: .failed, detail: item.detail))
            }
            let layerARN: String
            do { layerARN = try await layers.arn(for: effective, architecture: facts.architecture) } catch {
                item.outcome = .failed
                item.detail = "cannot publish the Kitsune layer: \(error)"
                return await finish(item, record: record, deployment: Deployment(policyID: effective.id, policyVersion: effective.version, status: .failed, detail: item.detail))
            }
            // What cannot be done is known before a token is issued (a placeholder of a token's length
            // checks the environment limit): no token is minted and revoked at every pass for nothing.
            let placeholder = String(repeating: "x", count: max(function.variables["KITSUNE_EVENTS_TOKEN"]?.count ?? 0, Self.tokenLength))
            let probe = ProtectionTarget(layerARN: layerARN, variables: [KitsuneLayer.wrapperVariable: KitsuneLayer.wrapperPath,
                                                                         "KITSUNE_EVENTS_URL": eventsURL, "KITSUNE_EVENTS_TOKEN": placeholder])
            if let (status, outcome, why) = Self.blocked(planner.decide(function, desired: probe, deployedByUs: deployedByUs)) {
                item.outcome = outcome
                item.detail = why
                return await finish(item, record: record, deployment: Deployment(policyID: effective.id, policyVersion: effective.version,
                                                                                 layerARN: record?.deployment.layerARN, status: status, detail: why,
                                                                                 tokenID: record?.deployment.tokenID, changedMs: record?.deployment.changedMs))
            }
            do {
                if let current = try await validToken(function.variables["KITSUNE_EVENTS_TOKEN"], facts) {
                    tokenID = current
                } else {
                    guard let groupID = account.groupID,
                          let token = try await tokens.issue(groupID: groupID, function: FunctionScope(functionName: facts.name, accountID: facts.account, region: facts.region),
                                                             arn: function.functionArn, actor: actor) else {
                        throw StoreError.failed("the account's enforcer group is missing")
                    }
                    minted = token
                    tokenID = token.id
                }
            } catch {
                item.outcome = .retrying
                item.detail = "cannot issue the function's token: \(error)"
                return await finish(item, record: record, deployment: nil)
            }
            let token = minted?.text ?? function.variables["KITSUNE_EVENTS_TOKEN"] ?? ""
            target = ProtectionTarget(layerARN: layerARN, variables: [KitsuneLayer.wrapperVariable: KitsuneLayer.wrapperPath,
                                                                      "KITSUNE_EVENTS_URL": eventsURL, "KITSUNE_EVENTS_TOKEN": token])
        }
        let decision = planner.decide(function, desired: target, deployedByUs: deployedByUs)
        var deployment = Deployment(policyID: effective?.id, policyVersion: effective?.version, layerARN: target?.layerARN,
                                    status: target == nil ? .unprotected : .protected, detail: "", tokenID: target == nil ? nil : tokenID,
                                    changedMs: record?.deployment.changedMs)
        switch decision {
        case .already(let why):
            item.detail = why
            await revoke(minted?.id)
            if target == nil, let old = record?.deployment.tokenID { await revoke(old) }
        case .skipped, .failed, .retry:
            await revoke(minted?.id)
            let (status, outcome, why) = Self.blocked(decision)!
            item.outcome = outcome
            item.detail = why
            deployment = Deployment(policyID: effective?.id, policyVersion: effective?.version, layerARN: record?.deployment.layerARN,
                                    status: status, detail: why, tokenID: record?.deployment.tokenID, changedMs: record?.deployment.changedMs)
        case .update(let update, let summary):
            do {
                let updated = try await lambda.updateFunctionConfiguration(function.functionArn, update)
                if let want = update.layers, updated.layerARNs != want { throw AWSError.invalidResponse(action: "lambda:UpdateFunctionConfiguration", detail: "the answer carries other layers than requested") }
                if let want = update.environment, updated.variables != want { throw AWSError.invalidResponse(action: "lambda:UpdateFunctionConfiguration", detail: "the answer carries other variables than requested") }
                deployment.changedMs = Timestamps.nowMs()
                let samePolicy = record?.deployment.status == .protected && record?.deployment.policyID == effective?.id
                    && record?.deployment.policyVersion == effective?.version && record?.deployment.layerARN == target?.layerARN
                item.outcome = target == nil ? .removed : samePolicy ? .repaired : .deployed
                item.detail = summary
                // The token the function carried before is revoked once the new one is in place.
                if let old = record?.deployment.tokenID, old != deployment.tokenID { await revoke(old) }
                await save(item, deployment: deployment, layers: update.layers)
                return item
            } catch {
                await revoke(minted?.id)
                let busy = Self.isBusy(error)
                item.outcome = busy ? .retrying : .failed
                item.detail = (busy ? "AWS is busy with the function, retrying next pass: " : "update rejected, function left unchanged: ") + "\(error)"
                deployment = Deployment(policyID: effective?.id, policyVersion: effective?.version, layerARN: record?.deployment.layerARN,
                                        status: busy ? .retrying : .failed, detail: item.detail, tokenID: record?.deployment.tokenID,
                                        changedMs: record?.deployment.changedMs)
            }
        }
        return await finish(item, record: record, deployment: deployment)
    }

    /// Records the deployment (when given) and marks a failure the same as last time as repeated.
    private func finish(_ item: Item, record: InventoryFunction?, deployment: Deployment?) async -> Item {
        var item = item
        if item.outcome == .failed || item.outcome == .skipped, let record, record.deployment.detail == item.detail {
            item.repeated = true
        }
        if let deployment { await save(item, deployment: deployment, layers: nil) }
        return item
    }

    private func save(_ item: Item, deployment: Deployment, layers: [String]?) async {
        var deployment = deployment
        if deployment.status == .protected || deployment.status == .unprotected { deployment.detail = item.detail }
        try? await store.setDeployment(arn: item.arn, deployment, layers: layers)
    }

    /// The id of `text` when it is a live token of this account's group scoped to this function.
    private func validToken(_ text: String?, _ facts: FunctionFacts) async throws -> String? {
        guard let text, let token = TokenSecret(parsing: Substring(text)), let principal = try await store.authenticate(token),
              principal.role == .ingest, principal.groupID == account.groupID,
              let scopes = principal.functions, scopes.count == 1, scopes[0].functionName == facts.name,
              scopes[0].accountID == facts.account, scopes[0].region == facts.region else { return nil }
        return principal.tokenID
    }

    private func revoke(_ id: String?) async {
        if let id { await tokens.revoke(id, actor: actor) }
    }

    /// The length of a token's text (`kit_` + 16 + `_` + 64).
    static let tokenLength = 85

    /// A decision that sends nothing, as the deployment status, outcome and reason.
    static func blocked(_ decision: ProtectionDecision) -> (DeploymentStatus, ReconcileReport.Outcome, String)? {
        switch decision {
        case .skipped(let why): return (.skipped, .skipped, why)
        case .failed(let why): return (.failed, .failed, why)
        case .retry(let why): return (.retrying, .retrying, why)
        case .update, .already: return nil
        }
    }

    /// An update refused because the function is changing, or throttling that outlasted the retries.
    static func isBusy(_ error: any Error) -> Bool {
        guard let error = error as? AWSError else { return false }
        switch error {
        case .throttled: return true
        case .service(_, let status, let code, _):
            return status == 409 || status == 412 || status == 429 || code == "ResourceConflictException" || code == "PreconditionFailedException"
        default: return false
        }
    }

    static func region(of arn: String) -> String {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > 3 ? String(parts[3]) : ""
    }
}
