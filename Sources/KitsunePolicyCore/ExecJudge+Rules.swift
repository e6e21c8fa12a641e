// The rules applied to an exec or an executable mapping.

/// Judges exec attempts and executable mappings against a policy.
public struct ExecJudge {
    public let policy: Policy
    public let manifest: ManifestIndex?

    public init(policy: Policy, manifest: ManifestIndex?) {
        self.policy = policy
        self.manifest = manifest
    }

    /// Judge an `execve`/`execveat`.
    public func judge<O: FileOracle>(_ attempt: ExecAttempt, oracle: inout O) -> Verdict {
        var out = Verdict()
        var subject = attempt.executable
        let exe = attempt.executable
        if exe.kind == .memfd {
            add(&out, .fileless, exe.path)
            return finish(out, subject: exe)
        }
        if !isTrusted(exe, oracle: &oracle) { add(&out, .drift, exe.path) }
        // What runs, and with which arguments: a multi-call binary runs the applet it is called as.
        let (base, argv) = program(exe.path, attempt.argv)
        if let rule = policy.loaders.first(where: { matches(base, $0.names) }) {
            let parsed = parseLoader(argv, rule)
            for code in parsed.code {
                for part in code.split(separator: 58) where !part.isEmpty {
                    judgeNativeCode(oracle.lookup(part, cwd: attempt.cwd), into: &out)
                }
            }
            if let target = parsed.target {
                let facts = oracle.lookup(target, cwd: attempt.cwd)
                if facts.kind == .memfd || facts.kind == .stream {
                    add(&out, .fileless, facts.path)
                } else if facts.kind == .regular {
                    subject = facts
                    if !isTrusted(facts, oracle: &oracle) { add(&out, .loader, facts.path) }
                }
            }
        }
        if let rule = policy.interpreters.first(where: { matches(base, $0.names) }), policy.interpreterScripts != .off {
            let command = interpreterCommand(argv, rule)
            let code = command.scripts + environmentCode(attempt.environment, rule)
                + startupCode(attempt, argv: argv, rule, command, oracle: &oracle)
            for script in code {
                // The operator's own command may read its program from a pipe (`… | kitsune run -- sh`).
                let fromStdin = script == Bytes(literal: "/dev/stdin")
                if fromStdin && attempt.isInitial { continue }
                let facts = oracle.lookup(script, cwd: attempt.cwd)
                // bash before 5.1 (Amazon Linux 2) keeps a here-document in a temporary file it
                // unlinks at once: the parent's own text, like the pipe of a newer shell.
                if fromStdin && facts.kind == .regular && facts.deleted { continue }
                if facts.kind == .memfd {
                    add(&out, .fileless, facts.path)
                } else if facts.kind == .stream
                            || ((facts.kind == .regular || facts.kind == .directory) && !isBeneathTrusted(facts.path)
                                && !(isListed(facts.path) && matchesManifest(facts, oracle: &oracle))) {
                    // A pipe (`curl … | sh`), or a file or directory (`python3 /tmp/pkg/`) from a writable place.
                    add(&out, .interpreterScript, facts.path, policy.interpreterScripts)
                }
            }
        }
        if subject.kind == .regular && isBlocked(subject, oracle: &oracle) {
            add(&out, .blocklist, subject.path)
        }
        if !attempt.isInitial && !policy.allow.isEmpty && !isAllowed(subject.path) {
            add(&out, .notAllowlisted, subject.path)
        }
        if policy.credentials != .off && exposesCredentials(attempt) {
            add(&out, .credentials, subject.path, policy.credentials)
        }
        if policy.honeypot.isEnabled && carriesDecoy(attempt) {
            add(&out, .honeypot, subject.path, .report)
        }
        return finish(out, subject: subject)
    }

    /// Whether judging an exec of `executable` (a canonical path) needs the new program's environment.
    public func needsEnvironment(_ executable: Bytes) -> Bool {
        if !policy.honeypot.values.isEmpty { return true }
        guard policy.interpreterScripts != .off else { return false }
        let base = Path.baseName(executable)
        // A multi-call binary may be any of its applets: read it whenever one of the rules would.
        if matches(base, policy.multicall) { return policy.interpreters.contains { $0.readsEnvironment } }
        return policy.interpreters.first { matches(base, $0.names) }?.readsEnvironment ?? false
    }

    /// The name rules match and the arguments they parse: the executable's base name and `argv`, or
    /// for a multi-call binary (`busybox`) the applet it runs as — `argv[0]`'s base name, or `argv[1]`
    /// (the arguments shifted by one) when `argv[0]` names the binary itself (`busybox sh x.sh`).
    public func program(_ executable: Bytes, _ argv: [Bytes]) -> (name: Bytes, argv: [Bytes]) {
        let base = Path.baseName(executable)
        guard matches(base, policy.multicall) else { return (base, argv) }
        let called = argv.first.map { Path.baseName($0) } ?? []
        if !called.isEmpty && !matches(called, policy.multicall) { return (called, argv) }
        guard argv.count > 1 else { return (base, argv) }
        return (Path.baseName(argv[1]), Array(argv.dropFirst()))
    }

    /// Whether mapping the file at `path` (a canonical path) executable is clean without looking at the
    /// file itself: beneath a trusted root and not governed by the manifest. The supervisor's fast path
    /// for every shared library of every program.
    public func isMappingTrustedByPath(_ path: Bytes) -> Bool {
        path.first == 47 && isBeneathTrusted(path) && !(manifest?.covers(path) ?? false)
    }

    /// Judge a file mapped executable (`mmap(PROT_EXEC)` of a file descriptor).
    public func judgeMapping<O: FileOracle>(_ file: FileFacts, oracle: inout O) -> Verdict {
        var out = Verdict()
        judgeNativeCode(file, into: &out, oracle: &oracle)
        return finish(out, subject: file)
    }

    func judgeNativeCode(_ file: FileFacts, into out: inout Verdict) {
        guard policy.nativeCode != .off else { return }
        if file.kind == .memfd { add(&out, .fileless, file.path, policy.nativeCode); return }
        if file.kind == .regular && !isBeneathTrusted(file.path) && !isListed(file.path) { add(&out, .drift, file.path, policy.nativeCode) }
    }

    func judgeNativeCode<O: FileOracle>(_ file: FileFacts, into out: inout Verdict, oracle: inout O) {
        judgeNativeCode(file, into: &out)
        if out.isClean && policy.nativeCode != .off && file.kind == .regular && !matchesManifest(file, oracle: &oracle) {
            add(&out, .drift, file.path, policy.nativeCode)
        }
    }

    // MARK: - rules

    /// Beneath a package or system root, or listed in the manifest (a container's manifest rooted at
    /// `/` is the package: its files are trusted wherever they are) and, when a manifest covers it,
    /// identical to the inventory.
    public func isTrusted<O: FileOracle>(_ file: FileFacts, oracle: inout O) -> Bool {
        file.kind == .regular && (isBeneathTrusted(file.path) || isListed(file.path)) && matchesManifest(file, oracle: &oracle)
    }

    /// Whether the manifest lists `path` (a canonical path).
    public func isListed(_ path: Bytes) -> Bool { manifest?.record(path) != nil }

    public func isBeneathTrusted(_ path: Bytes) -> Bool {
        for root in policy.trustedRoots where Path.isBeneath(path, root) { return true }
        return false
    }

    func matchesManifest<O: FileOracle>(_ file: FileFacts, oracle: inout O) -> Bool {
        guard let manifest, manifest.covers(file.path) else { return true }
        guard let record = manifest.record(file.path), record.size == file.size else { return false }
        return oracle.sha256(of: file) == record.sha256
    }

    func isBlocked<O: FileOracle>(_ file: FileFacts, oracle: inout O) -> Bool {
        // Names match whatever their case (`XMRig`, `XMRIG` are the same miner).
        let base = Path.baseName(file.path).lowercasedASCII()
        for p in policy.blockNames where Path.globMatch(base, p.lowercasedASCII()) { return true }
        for p in policy.blockPaths where p == file.path { return true }
        if !policy.blockHashes.isEmpty, let digest = oracle.sha256(of: file) {
            for h in policy.blockHashes where h == digest { return true }
        }
        return false
    }

    func isAllowed(_ path: Bytes) -> Bool {
        for entry in policy.allow {
            if entry.last == 47 ? path.hasPrefix(entry) : path == entry { return true }
        }
        return false
    }

    /// Whether the exec carries a decoy: a decoy value or decoy file path in its arguments, or a
    /// decoy value anywhere in its environment other than the variable the enforcer planted it in.
    func carriesDecoy(_ attempt: ExecAttempt) -> Bool {
        let h = policy.honeypot
        for value in h.values + h.files where !value.isEmpty {
            for a in attempt.argv where a.contains(bytes: value) { return true }
        }
        for value in h.values where !value.isEmpty {
            for e in attempt.environment where e.contains(bytes: value) && !h.planted.contains(e) { return true }
        }
        guard !h.planted.isEmpty else { return false }
        // `printenv AWS_BACKUP_SECRET_ACCESS_KEY`: a dumper asked for a decoy by name.
        let names = h.planted.compactMap { e in e.firstIndex(of: 61).map { Bytes(e[..<$0]) } }
        if namesVariable(attempt, names) { return true }
        // Printing an environment that holds the decoys.
        return dumpsEnvironment(attempt)
            && (readsProcEnviron(attempt) || attempt.environment.contains { h.planted.contains($0) })
    }

    /// A dumper (`printenv NAME`) asked for one of these variables.
    func namesVariable(_ attempt: ExecAttempt, _ names: [Bytes]) -> Bool {
        dumper(attempt) != nil && attempt.argv.dropFirst().contains { names.contains($0) }
    }

    /// The function's real credentials: in the arguments (exfiltration), or an environment dump.
    func exposesCredentials(_ attempt: ExecAttempt) -> Bool {
        let values = policy.credentialValues.filter { $0.count >= 16 }
        guard !values.isEmpty else { return false }
        for value in values {
            for a in attempt.argv.dropFirst() where a.contains(bytes: value) { return true }
        }
        return dumpsEnvironment(attempt) || namesVariable(attempt, policy.credentialVariables)
    }

    /// `env` / `printenv` with no command to run (they print every variable), or an argument naming
    /// an environment block (`cat /proc/self/environ`, `curl -d @/proc/1/environ`).
    func dumpsEnvironment(_ attempt: ExecAttempt) -> Bool {
        if readsProcEnviron(attempt) { return true }
        guard let rule = dumper(attempt) else { return false }
        let argv = program(attempt.executable.path, attempt.argv).argv
        var i = 1
        while i < argv.count {
            let a = argv[i]
            if a == Bytes(literal: "--") { return i + 1 == argv.count }
            if rule.clearingOptions.contains(a) { return false }        // `env -i`: nothing inherited is printed
            if rule.commandOptions.contains(where: { a.hasPrefix($0) }) { return false }   // `env -S "cmd"`: runs a command
            if rule.valueOptions.contains(a) { i += 2; continue }        // `env -u NAME`, `env -C DIR`
            if a.first != 45 && !a.contains(61) { return false }          // a command (or a NAME) to run or print
            i += 1
        }
        return true
    }

    func dumper(_ attempt: ExecAttempt) -> DumperRule? {
        let base = program(attempt.executable.path, attempt.argv).name
        return policy.environmentDumpers.first { matches(base, $0.names) }
    }

    func readsProcEnviron(_ attempt: ExecAttempt) -> Bool {
        attempt.argv.dropFirst().contains { $0.contains(bytes: Bytes(literal: "/proc/")) && $0.contains(bytes: Bytes(literal: "/environ")) }
    }

    func matches(_ name: Bytes, _ patterns: [Bytes]) -> Bool {
        for p in patterns where Path.globMatch(name, p) { return true }
        return false
    }

    func add(_ v: inout Verdict, _ reason: Reason, _ subject: Bytes, _ action: ControlAction = .block) {
        guard action != .off else { return }
        v.violations.append(Violation(reason: reason, subject: subject, action: action))
    }

    func finish(_ v: Verdict, subject: FileFacts) -> Verdict {
        var out = v
        out.subject = subject
        out.violations.sort { Self.rank($0.reason) < Self.rank($1.reason) }
        out.block = policy.mode == .enforce && out.violations.contains { $0.action == .block }
        return out
    }

    static func rank(_ r: Reason) -> Int {
        switch r {
        case .blocklist: return 0
        case .fileless: return 1
        case .loader: return 2
        case .drift: return 3
        case .abi, .nativeCode, .tamper, .execMemory: return 4
        case .interpreterScript: return 5
        case .notAllowlisted: return 6
        case .credentials: return 7
        case .honeypot: return 8
        }
    }
}
