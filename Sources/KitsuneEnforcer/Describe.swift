// What the enforcer tells about itself: the `started` event, `--probe` and `--check` output.

import CKitsuneBuildInfo

/// The enforcer's version: Kitsune's own (KitsunePolicyCore/Version.swift).
var enforcerVersion: StaticString { kitsuneVersion }

/// The git commit this binary was built from (stamped by scripts/package), or `unknown`.
func buildCommit() -> Bytes { bytes(ofCString: kitsune_build_commit()) }

/// Fields describing the mechanisms and controls in force (shared by `started` and `--probe`);
/// `syncWakeup`: whether the listener took synchronous wake-ups (known once there is one: `started`).
func describe(_ w: inout JSONObjectWriter, kernel: Kernel, plan: Plan, config: Configuration, syncWakeup: Bool? = nil) {
    w.string("kernel", kernel.release)
    w.object("mechanisms") { m in
        m.bool("no_new_privs", true)
        m.bool("seccomp_filter", true)
        m.int("landlock_abi", kernel.landlockABI)
        m.bool("landlock", plan.landlock)
        m.bool("landlock_signal_scope", plan.signalScope)
        m.bool("user_notification", plan.supervisor)
        if let s = syncWakeup { m.bool("notification_sync_wakeup", s) }
    }
    let controls = plan.controls(policy: config.policy, manifest: config.manifest != nil)
    w.object("controls") { c in
        for (name, by) in controls { c.string(name, by) }
    }
    var off: [Bytes] = []
    for (name, by) in controls where by == Bytes(literal: "off") { off.append(Bytes(literal: name)) }
    w.strings("not_enforced", off)
    if !kernel.simulatedMissing.isEmpty { w.strings("simulated_missing", kernel.simulatedMissing) }
}

/// `--probe`: one JSON object on standard output.
func probeReport(kernel: Kernel, plan: Plan, config: Configuration) -> Bytes {
    var w = JSONObjectWriter()
    w.string("version", enforcerVersion)
    w.string("commit", buildCommit())
    w.string("mode", config.policy.mode.name)
    describe(&w, kernel: kernel, plan: plan, config: config)
    return w.line()
}

/// `--check`: the effective policy as JSON.
func policyReport(_ config: Configuration) -> Bytes {
    let p = config.policy
    func actionName(_ a: ControlAction) -> Bytes {
        switch a {
        case .block: return Bytes(literal: "block")
        case .report: return Bytes(literal: "report")
        case .off: return Bytes(literal: "off")
        }
    }
    var w = JSONObjectWriter()
    w.string("mode", p.mode.name)
    w.strings("package", p.packageRoots)
    w.strings("system", p.systemRoots)
    if let m = p.manifest { w.string("manifest", m) }
    if let m = config.manifest { w.int("manifest_files", m.records.count) }
    w.strings("block_names", p.blockNames)
    w.strings("block_paths", p.blockPaths)
    w.strings("block_sha256", p.blockHashes.map { hexBytes($0) })
    w.strings("allow", p.allow)
    w.string("interpreter_scripts", actionName(p.interpreterScripts))
    w.string("native_code", actionName(p.nativeCode))
    w.string("exec_memory", actionName(p.execMemory))
    w.strings("jit_runtimes", p.jitRuntimes)
    w.string("credentials", actionName(p.credentials))
    w.strings("credential_variables", p.credentialVariables)
    w.strings("environment_dumpers", p.environmentDumpers.flatMap { $0.names })
    w.int("interpreter_rules", p.interpreters.count)
    w.int("loader_rules", p.loaders.count)
    w.strings("honeypot_env", p.honeypot.env.map { $0.name })
    w.int("honeypot_values", p.honeypot.values.count)
    w.strings("honeypot_files", p.honeypot.files)
    if let e = p.events { w.string("events", e) }
    w.strings("checked_at_run_time", config.runTimeOnly)
    return w.line()
}
