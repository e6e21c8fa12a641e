// Code an interpreter reads at start-up from places its command line does not name: the user site
// directory under `$HOME`, the working directory on the module path, a virtual environment beside
// the program (the `startup` entries of the interpreter table, default-policy.yaml). Each place found
// is judged by the caller like a script: outside the trusted roots it is code from a writable place.

/// How an interpreter's command line gives it its program.
struct InterpreterCommand {
    enum Program { case file, inline, stdin }

    /// Script files named by options, then the program file (or `/dev/stdin`).
    var scripts: [Bytes] = []
    var program = Program.file
    /// The options before the program; combined short options one letter at a time (`-Is` → `-I`, `-s`).
    var options: [Bytes] = []
}

extension ExecJudge {
    /// Most files or directories one `*` of a start-up location may stand for.
    static let startupMatchesMax = 8

    /// The start-up places of `rule` that apply to this exec, as paths for the oracle (relative ones
    /// resolve against the exec's working directory).
    func startupCode<O: FileOracle>(_ attempt: ExecAttempt, argv: [Bytes], _ rule: InterpreterRule,
                                    _ command: InterpreterCommand, oracle: inout O) -> [Bytes] {
        guard !rule.startup.isEmpty else { return [] }
        let honoursEnvironment = !command.options.contains { rule.ignoreEnvironment.contains($0) }
        var out: [Bytes] = []
        for location in rule.startup where !isTurnedOff(location, command, attempt.environment, honoursEnvironment) {
            switch location.place {
            case .workingDirectory:
                // The wrapped command's own working directory was chosen by whoever started it (in
                // Lambda, /var/task), like its standard input.
                if command.program != .file && !attempt.isInitial { out.append(attempt.cwd) }
            case .path(let template):
                out += expand(template, attempt.environment, oracle: &oracle)
            case .besideProgram(let relative):
                for dir in programDirectories(attempt.invokedPath, argv) {
                    out.append(dir.isEmpty ? relative : dir + [47] + relative)
                }
            }
        }
        return out
    }

    /// Whether an option or a variable of `location.unless` is present (a variable counts when set
    /// and not empty, and only while the interpreter honours its environment).
    func isTurnedOff(_ location: StartupLocation, _ command: InterpreterCommand, _ environment: [Bytes],
                     _ honoursEnvironment: Bool) -> Bool {
        for u in location.unless {
            if u.first == 45 {
                if command.options.contains(u) { return true }
            } else if honoursEnvironment, let v = environmentValue(u, environment), !v.isEmpty {
                return true
            }
        }
        return false
    }

    /// The directories an interpreter looks beside for its prefix: that of the path it was executed
    /// by, and that of `argv[0]` when it names a path (Python takes its prefix from `argv[0]`). Those
    /// beneath a trusted root are left out (what is beside them is trusted too); `""` is the
    /// working directory.
    func programDirectories(_ invoked: Bytes?, _ argv: [Bytes]) -> [Bytes] {
        var out: [Bytes] = []
        for (i, path) in [invoked ?? [], argv.first ?? []].enumerated() where !path.isEmpty {
            guard let slash = path.lastIndex(of: 47) else {
                if i == 0 && !out.contains([]) { out.append([]) }   // execve("python3"): the working directory
                continue
            }
            let dir = slash == 0 ? [47] : Bytes(path[..<slash])
            if dir.first == 47 && isBeneathTrusted(Path.normalize(dir)) { continue }
            if !out.contains(dir) { out.append(dir) }
        }
        return out
    }

    /// A start-up path template made concrete: `$NAME` from the environment (nothing when unset or
    /// not absolute, or when it is beneath a trusted root), each component with `*` or `?` matched
    /// against the directory's entries (hidden ones only by a pattern starting with `.`).
    func expand<O: FileOracle>(_ template: Bytes, _ environment: [Bytes], oracle: inout O) -> [Bytes] {
        var base: Bytes = [47]
        var rest = template
        if let (name, tail) = StartupLocation.variable(of: template) {
            guard let v = environmentValue(name, environment), v.first == 47 else { return [] }
            base = Path.normalize(v)
            rest = tail
            if isBeneathTrusted(base) { return [] }
        }
        var candidates = [base]
        for part in rest.split(separator: 47) where !part.isEmpty {
            let glob = part.contains(42) || part.contains(63)
            var next: [Bytes] = []
            for c in candidates {
                let prefix = c == [47] ? [] : c
                if !glob { next.append(prefix + [47] + part); continue }
                for name in oracle.entries(of: c) where Path.globMatch(name, part) && (name.first != 46 || part.first == 46) {
                    if next.count < Self.startupMatchesMax { next.append(prefix + [47] + name) }
                }
            }
            candidates = next
            if candidates.isEmpty { break }
        }
        return candidates
    }

    /// The value of variable `name` in an environment block (its first definition, as `getenv`).
    func environmentValue(_ name: Bytes, _ environment: [Bytes]) -> Bytes? {
        for entry in environment where entry.count > name.count && entry[name.count] == 61 && entry.hasPrefix(name) {
            return Bytes(entry[(name.count + 1)...])
        }
        return nil
    }
}
