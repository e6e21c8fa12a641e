import Hummingbird
import KitsunePolicy

/// The JSON shapes of policies, accounts, the inventory and reconcile passes.
extension APIRender {
    static func scope(_ s: PolicyScope, in w: inout JSONWriter) {
        w.beginObject()
        for (name, values) in zip(PolicyScope.fields, [s.tags, s.functions, s.accounts, s.regions, s.runtimes, s.architectures]) where !values.isEmpty {
            w.field(name, strings: values)
        }
        w.endObject()
    }

    static func policy(_ p: StoredPolicy, in w: inout JSONWriter) {
        w.beginObject()
        w.field("id", p.id)
        w.field("name", p.policy.name)
        w.field("version", p.version)
        w.field("mode", p.policy.mode.rawValue)
        w.field("priority", p.policy.priority)
        w.field("promote_after", p.policy.promoteAfterDays.map { "\($0)d" })
        w.key("scope"); scope(p.policy.scope, in: &w)
        w.field("document", p.policy.document)
        w.field("created_at", Timestamps.format(p.createdMs))
        w.field("updated_at", Timestamps.format(p.updatedMs))
        w.field("updated_by", p.updatedBy)
        w.endObject()
    }

    /// Versions newest first, each with its diff against the one before.
    static func versions(_ versions: [PolicyVersion], in w: inout JSONWriter) {
        w.beginObject(); w.key("versions"); w.beginArray()
        for (i, v) in versions.enumerated() {
            w.beginObject()
            w.field("version", v.version)
            w.field("time", Timestamps.format(v.timeMs))
            w.field("actor", v.actor)
            w.field("change", v.change)
            w.field("document", v.document)
            w.field("diff", LineDiff.unified(i + 1 < versions.count ? versions[i + 1].document : "", v.document))
            w.endObject()
        }
        w.endArray(); w.endObject()
    }

    static func preview(_ p: PolicyPreview, in w: inout JSONWriter) {
        w.beginObject()
        w.field("count", p.covered.count)
        w.key("functions"); w.beginArray()
        for e in p.covered {
            w.beginObject()
            w.field("id", e.function.id); w.field("name", e.function.name); w.field("account_id", e.function.accountID); w.field("region", e.function.region)
            w.field("current_policy", e.currentPolicy)
            w.endObject()
        }
        w.endArray()
        w.key("shadowed"); w.beginArray()
        for s in p.shadowed {
            w.beginObject(); w.field("id", s.function.id); w.field("name", s.function.name); w.field("effective_policy", s.by); w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    static func account(_ a: AWSAccountRecord, agentToken: String? = nil, in w: inout JSONWriter) {
        w.beginObject()
        w.field("account_id", a.accountID)
        w.field("mode", a.mode.rawValue)
        if let agentToken { w.field("agent_token", agentToken) }
        w.field("regions", strings: a.regions)
        w.field("role_arn", a.roleARN)
        w.field("external_id_set", a.externalID != nil)
        w.field("group_id", a.groupID)
        w.field("created_at", Timestamps.format(a.createdMs))
        w.field("synced_at", a.syncedMs.map(Timestamps.format))
        w.field("sync_error", a.syncError)
        w.endObject()
    }

    static func function(_ f: InventoryFunction, policies: [String: StoredPolicy], in w: inout JSONWriter) {
        w.beginObject()
        w.field("id", f.id)
        w.field("arn", f.arn)
        w.field("name", f.name)
        w.field("account_id", f.accountID)
        w.field("region", f.region)
        w.field("runtime", f.runtime)
        w.field("architecture", f.architecture)
        w.field("package_type", f.packageType)
        w.key("tags"); w.beginObject(); for (k, v) in f.tags.sorted(by: { $0.key < $1.key }) { w.field(k, v) }; w.endObject()
        w.field("layers", strings: f.layers)
        w.field("role", f.role)
        w.field("environment_names", strings: f.environmentNames)
        w.field("synced_at", Timestamps.format(f.syncedMs))
        let d = f.deployment
        w.key("deployment"); w.beginObject()
        w.field("status", d.status.rawValue)
        w.field("detail", d.detail)
        w.field("policy_id", d.policyID)
        w.field("policy", d.policyID.flatMap { policies[$0]?.policy.name })
        w.field("policy_version", d.policyVersion)
        w.field("layer_arn", d.layerARN)
        w.field("token_id", d.tokenID)
        w.field("changed_at", d.changedMs.map(Timestamps.format))
        w.endObject()
        w.endObject()
    }

    static func report(_ r: ReconcileReport, in w: inout JSONWriter) {
        w.beginObject()
        w.field("started_at", Timestamps.format(r.startedMs))
        w.field("duration_ms", r.finishedMs - r.startedMs)
        w.field("aws_calls", r.awsCalls)
        w.key("counts"); w.beginObject(); for o in ReconcileReport.Outcome.allCases { w.field(o.rawValue, r.count(o)) }; w.endObject()
        w.key("functions"); w.beginArray()
        for i in r.items {
            w.beginObject()
            w.field("id", InventoryFunction.id(arn: i.arn)); w.field("name", i.name); w.field("account_id", i.account); w.field("region", i.region)
            w.field("policy", i.policyName); w.field("policy_version", i.policyVersion)
            w.field("outcome", i.outcome.rawValue); w.field("detail", i.detail)
            w.endObject()
        }
        w.endArray()
        w.key("account_errors"); w.beginArray()
        for f in r.failures { w.beginObject(); w.field("account_id", f.account); w.field("region", f.region); w.field("error", f.error); w.endObject() }
        w.endArray()
        w.endObject()
    }
}
