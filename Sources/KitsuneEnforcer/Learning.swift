// Learn mode: audit (nothing is blocked, violations are `reported`) plus one `observed` event for
// each distinct program the protected tree runs, once per enforcer start — one cold start in Lambda,
// never once per invocation. The set of programs already reported is bounded (ObservedPrograms).
import CKitsuneSys

/// Facts of one `observed` event.
struct Observation {
    /// The executable (canonical path, or `memfd:NAME`).
    var executable: Bytes
    /// What the loader was asked to run (`ld.so /var/task/bin/x`), when it differs.
    var target: Bytes?
    /// The script an interpreter runs, when it is a file.
    var script: Bytes?
    var argv0: Bytes?
    /// Present only when the supervisor already had it (a manifest, a `sha256:` block entry or the
    /// report of a violation made it hash the file): learn mode adds no hashing.
    var sha256: Bytes?
    var syscall: StaticString
    var pid: Int
    /// The wrapped command's own first exec (the runtime).
    var initial: Bool
}

extension Supervisor {
    /// Report the program of an exec about to be answered, the first time it is seen.
    mutating func observe(_ attempt: ExecAttempt, _ v: Verdict, _ n: ks_notif_t, syscall: StaticString, pid: Int) {
        guard observed?.isFull == false else { return }       // past the bound: nothing more to learn
        let exe = attempt.executable
        let script = judge.programScript(attempt, oracle: &oracle)
        let key = ObservedPrograms.key(executable: exe.path, script: script)
        // Read in place (no copy of the set is kept: the insert below must not copy it).
        guard observed?.contains(key) == false else { return }
        // The same rule as every event: only about a target still waiting in this very syscall.
        guard ks_notif_id_valid(listener, n.id) == 1, let admission = observed?.insert(key) else { return }
        switch admission {
        case .full:
            return
        case .overflow:
            sink.learnOverflow(executable: exe.path, limit: observed?.capacity ?? 0, pid: pid)
        case .added:
            let target = v.subject.map { $0.path }.flatMap { $0 == exe.path ? nil : $0 }
            let argv0 = attempt.argv.first.map { redactingCredentials([$0], judge.policy.credentialValues)[0] }
            sink.observation(Observation(executable: exe.path, target: target, script: script, argv0: argv0,
                                         sha256: oracle.cachedSHA256(of: exe), syscall: syscall, pid: pid,
                                         initial: attempt.isInitial))
        }
    }
}

extension ProcOracle {
    /// The SHA-256 of `file` when it was already computed for this version of it (no hashing here).
    func cachedSHA256(of file: FileFacts) -> Bytes? { file.kind == .regular ? hashes[file.identity] : nil }
}

extension EventSink {
    /// `"action":"observed","reason":"learn"`: a program run for the first time since the start.
    func observation(_ o: Observation) {
        var w = header(action: "observed")
        w.string("reason", "learn")
        w.string("executable", o.executable)
        if let t = o.target { w.string("target", t) }
        if let s = o.script { w.string("script", s) }
        if let a = o.argv0 {
            // argv[0] is whatever the caller chose: at most a path's length of it.
            w.string("argv0", a.count > Limits.pathMax ? Bytes(a[0..<Limits.pathMax]) : a)
            if a.count > Limits.pathMax { w.bool("argv0_truncated", true) }
        }
        if let h = o.sha256 { w.string("sha256", hexBytes(h)) }
        w.string("syscall", o.syscall)
        w.int("pid", o.pid)
        if o.initial { w.bool("initial", true) }
        lambdaFields(&w, requestID: nil)
        containerFields(&w, started: false)
        emit(w)
    }

    /// `"action":"observed","reason":"learn_overflow"`: the set of programs is full; `executable` is
    /// the first one not recorded, and no further program is reported until the next start.
    func learnOverflow(executable: Bytes, limit: Int, pid: Int) {
        var w = header(action: "observed")
        w.string("reason", "learn_overflow")
        w.string("executable", executable)
        w.int("limit", limit)
        w.string("detail", "more distinct programs than learn mode records; later ones are not reported until the next start")
        w.int("pid", pid)
        lambdaFields(&w, requestID: nil)
        containerFields(&w, started: false)
        emit(w)
    }
}
