// Applies a parsed policy document (YAML subset) onto a ``Policy``. Strict: an unknown key or a
// value of the wrong shape is an error naming the line and the field, because a typo in a security
// policy must never be silently ignored.

/// Error in a policy document: `file:line: field: message`.
public struct PolicyError: Error {
    public let line: Int
    public let field: Bytes
    public let message: Bytes

    /// `FILE:LINE: field `F`: MESSAGE` (line omitted when unknown).
    public func render(file: Bytes) -> Bytes {
        var out = file
        if line > 0 { out.append(58); out.append(contentsOf: decimalBytes(line)) }
        out.append(contentsOf: Bytes(literal: ": "))
        if !field.isEmpty {
            out.append(contentsOf: Bytes(literal: "field `"))
            out.append(contentsOf: field)
            out.append(contentsOf: Bytes(literal: "`: "))
        }
        out.append(contentsOf: message)
        return out
    }
}

/// Reads policy documents.
public enum PolicyLoader {
    /// Parse `source` (YAML subset) and apply it onto `policy`.
    public static func apply(_ source: Bytes, to policy: inout Policy) throws(PolicyError) {
        let root: DataNode
        do { root = try YAMLSubsetReader.parse(source) } catch {
            throw PolicyError(line: error.line, field: [], message: error.message)
        }
        try apply(root, to: &policy)
    }

    /// Apply a parsed document onto `policy`.
    public static func apply(_ root: DataNode, to policy: inout Policy) throws(PolicyError) {
        guard case .map(let entries, _) = root else {
            throw PolicyError(line: root.line, field: [], message: Bytes(literal: "a policy is a mapping of settings"))
        }
        for e in entries {
            try applyEntry(e, to: &policy)
        }
    }

    static func fail(_ e: DataEntry, _ message: StaticString) -> PolicyError {
        PolicyError(line: e.line, field: e.key, message: Bytes(literal: message))
    }

    static func applyEntry(_ e: DataEntry, to policy: inout Policy) throws(PolicyError) {
        let k = e.key
        if k == Bytes(literal: "version") {
            guard try scalar(e) == [49] else { throw fail(e, "only version 1 is known") }
        } else if k == Bytes(literal: "mode") {
            guard let m = Mode.named(try scalar(e)) else { throw fail(e, "expected `enforce`, `audit` or `learn`") }
            policy.mode = m
        } else if k == Bytes(literal: "package") {
            policy.packageRoots = try absolutePaths(e)
        } else if k == Bytes(literal: "system") {
            policy.systemRoots = try absolutePaths(e)
        } else if k == Bytes(literal: "manifest") {
            policy.manifest = try scalar(e)
        } else if k == Bytes(literal: "block") {
            for item in try scalars(e) {
                do { try policy.addBlock(item) } catch { throw PolicyError(line: e.line, field: k, message: error.message) }
            }
        } else if k == Bytes(literal: "allow") {
            for item in try scalars(e) {
                do { try policy.addAllow(item) } catch { throw PolicyError(line: e.line, field: k, message: error.message) }
            }
        } else if k == Bytes(literal: "interpreter_scripts") {
            policy.interpreterScripts = try action(e)
        } else if k == Bytes(literal: "native_code") {
            policy.nativeCode = try action(e)
        } else if k == Bytes(literal: "exec_memory") {
            policy.execMemory = try action(e)
        } else if k == Bytes(literal: "jit_runtimes") {
            policy.jitRuntimes = try scalars(e)
        } else if k == Bytes(literal: "trampoline_memfds") {
            policy.trampolineMemfds = try scalars(e)
        } else if k == Bytes(literal: "events") {
            policy.events = try scalar(e)
        } else if k == Bytes(literal: "interpreters") {
            policy.interpreters = try rules(e).map { m throws(PolicyError) in try interpreterRule(m) }
        } else if k == Bytes(literal: "multicall") {
            policy.multicall = try scalars(e)
        } else if k == Bytes(literal: "loaders") {
            policy.loaders = try rules(e).map { m throws(PolicyError) in try loaderRule(m) }
        } else if k == Bytes(literal: "credentials") {
            policy.credentials = try action(e)
        } else if k == Bytes(literal: "credential_variables") {
            policy.credentialVariables = try scalars(e)
        } else if k == Bytes(literal: "environment_dumpers") {
            policy.environmentDumpers = try rules(e).map { m throws(PolicyError) in try dumperRule(m) }
        } else if k == Bytes(literal: "honeypot") {
            try honeypot(e, into: &policy.honeypot)
        } else {
            throw fail(e, "unknown setting (see docs/policy.md)")
        }
    }

    static func scalar(_ e: DataEntry) throws(PolicyError) -> Bytes {
        guard case .scalar(let v, _) = e.value else { throw fail(e, "expected a single value") }
        return v
    }

    /// A list of scalars; a single scalar counts as a one-item list; nothing as an empty list.
    static func scalars(_ e: DataEntry) throws(PolicyError) -> [Bytes] {
        switch e.value {
        case .null: return []
        case .scalar(let v, _): return [v]
        case .list(let items, _):
            var out: [Bytes] = []
            for item in items {
                guard case .scalar(let v, _) = item else {
                    throw PolicyError(line: item.line, field: e.key, message: Bytes(literal: "expected a list of values"))
                }
                out.append(v)
            }
            return out
        case .map: throw fail(e, "expected a list of values")
        }
    }

    static func absolutePaths(_ e: DataEntry) throws(PolicyError) -> [Bytes] {
        var out: [Bytes] = []
        for p in try scalars(e) {
            guard p.first == 47 else { throw fail(e, "paths must be absolute") }
            out.append(Path.normalize(p))
        }
        return out
    }

    static func action(_ e: DataEntry) throws(PolicyError) -> ControlAction {
        let v = try scalar(e)
        if v == Bytes(literal: "block") { return .block }
        if v == Bytes(literal: "report") { return .report }
        if v == Bytes(literal: "off") { return .off }
        throw fail(e, "expected `block`, `report` or `off`")
    }

    static func rules(_ e: DataEntry) throws(PolicyError) -> [[DataEntry]] {
        guard case .list(let items, _) = e.value else { throw fail(e, "expected a list of rules") }
        var out: [[DataEntry]] = []
        for item in items {
            guard case .map(let m, _) = item else {
                throw PolicyError(line: item.line, field: e.key, message: Bytes(literal: "each rule is a mapping"))
            }
            out.append(m)
        }
        return out
    }

    static func interpreterRule(_ m: [DataEntry]) throws(PolicyError) -> InterpreterRule {
        var r = InterpreterRule()
        for e in m {
            if e.key == Bytes(literal: "names") { r.names = try scalars(e) }
            else if e.key == Bytes(literal: "inline") { r.inlineOptions = try scalars(e) }
            else if e.key == Bytes(literal: "value") { r.valueOptions = try scalars(e) }
            else if e.key == Bytes(literal: "script") { r.scriptOptions = try scalars(e) }
            else if e.key == Bytes(literal: "program") {
                let v = try scalar(e)
                guard v == Bytes(literal: "inline") || v == Bytes(literal: "script") else { throw fail(e, "expected `script` or `inline`") }
                r.inlineProgram = v == Bytes(literal: "inline")
            }
            else if e.key == Bytes(literal: "lists") { r.listOptions = try scalars(e) }
            else if e.key == Bytes(literal: "env_options") { r.environmentOptions = try scalars(e) }
            else if e.key == Bytes(literal: "env_scripts") { r.environmentScripts = try scalars(e) }
            else if e.key == Bytes(literal: "env_paths") { r.environmentPaths = try scalars(e) }
            else if e.key == Bytes(literal: "startup") { r.startup = try rules(e).map { m throws(PolicyError) in try startupLocation(m) } }
            else if e.key == Bytes(literal: "ignore_env") { r.ignoreEnvironment = try scalars(e) }
            else { throw fail(e, "unknown interpreter rule field (names, inline, value, script, lists, program, env_options, env_scripts, env_paths, startup, ignore_env)") }
        }
        if r.names.isEmpty { throw PolicyError(line: m.first?.line ?? 0, field: Bytes(literal: "interpreters"), message: Bytes(literal: "rule without names")) }
        return r
    }

    /// One `startup` entry: exactly one of `path`, `working_directory`, `beside_program`, and `unless`.
    static func startupLocation(_ m: [DataEntry]) throws(PolicyError) -> StartupLocation {
        var places: [StartupLocation.Place] = []
        var unless: [Bytes] = []
        for e in m {
            if e.key == Bytes(literal: "path") {
                let v = try scalar(e)
                guard v.first == 47 || StartupLocation.variable(of: v) != nil else {
                    throw fail(e, "expected an absolute path or `$VARIABLE/...` (e.g. `$HOME/.local/lib/python*/site-packages`)")
                }
                places.append(.path(v))
            } else if e.key == Bytes(literal: "working_directory") {
                guard try scalar(e) == Bytes(literal: "inline") else {
                    throw fail(e, "expected `inline` (the working directory is searched first when the program is inline or on standard input)")
                }
                places.append(.workingDirectory)
            } else if e.key == Bytes(literal: "beside_program") {
                let v = try scalar(e)
                guard !v.isEmpty, v.first != 47 else { throw fail(e, "expected a path relative to the program's directory (`pyvenv.cfg`, `../pyvenv.cfg`)") }
                places.append(.besideProgram(v))
            } else if e.key == Bytes(literal: "unless") {
                unless = try scalars(e)
            } else {
                throw fail(e, "unknown start-up field (path, working_directory, beside_program, unless)")
            }
        }
        guard places.count == 1 else {
            throw PolicyError(line: m.first?.line ?? 0, field: Bytes(literal: "startup"),
                              message: Bytes(literal: "each start-up location has exactly one of path, working_directory, beside_program"))
        }
        return StartupLocation(places[0], unless: unless)
    }

    static func dumperRule(_ m: [DataEntry]) throws(PolicyError) -> DumperRule {
        var r = DumperRule()
        for e in m {
            if e.key == Bytes(literal: "names") { r.names = try scalars(e) }
            else if e.key == Bytes(literal: "value") { r.valueOptions = try scalars(e) }
            else if e.key == Bytes(literal: "clears") { r.clearingOptions = try scalars(e) }
            else if e.key == Bytes(literal: "command") { r.commandOptions = try scalars(e) }
            else { throw fail(e, "unknown environment dumper field (names, value, clears, command)") }
        }
        if r.names.isEmpty { throw PolicyError(line: m.first?.line ?? 0, field: Bytes(literal: "environment_dumpers"), message: Bytes(literal: "rule without names")) }
        return r
    }

    static func loaderRule(_ m: [DataEntry]) throws(PolicyError) -> LoaderRule {
        var r = LoaderRule()
        for e in m {
            if e.key == Bytes(literal: "names") { r.names = try scalars(e) }
            else if e.key == Bytes(literal: "value") { r.valueOptions = try scalars(e) }
            else if e.key == Bytes(literal: "code") { r.codeOptions = try scalars(e) }
            else { throw fail(e, "unknown loader rule field (names, value, code)") }
        }
        if r.names.isEmpty { throw PolicyError(line: m.first?.line ?? 0, field: Bytes(literal: "loaders"), message: Bytes(literal: "rule without names")) }
        return r
    }

    static func honeypot(_ e: DataEntry, into h: inout HoneypotConfig) throws(PolicyError) {
        guard case .map(let m, _) = e.value else { throw fail(e, "expected a mapping with `env`, `files` and `values`") }
        for f in m {
            if f.key == Bytes(literal: "values") { h.values += try scalars(f) }
            else if f.key == Bytes(literal: "files") { h.files += try absolutePaths(f) }
            else if f.key == Bytes(literal: "env") { h.env += try decoyVariables(f) }
            else { throw fail(f, "unknown honeypot field (env, files, values)") }
        }
    }

    /// `env: {NAME: generator-or-value, ...}`.
    static func decoyVariables(_ e: DataEntry) throws(PolicyError) -> [(name: Bytes, value: Bytes)] {
        if case .null = e.value { return [] }
        guard case .map(let m, _) = e.value else { throw fail(e, "expected a mapping of NAME: aws-access-key-id | aws-secret-access-key | VALUE") }
        var out: [(name: Bytes, value: Bytes)] = []
        for v in m {
            let value = try scalar(v)
            guard !v.key.isEmpty, !v.key.contains(61), v.key.allSatisfy({ $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
                throw fail(v, "environment variable names are letters, digits and `_`")
            }
            guard !value.isEmpty else { throw fail(v, "a decoy needs a value or a generator") }
            out.append((v.key, value))
        }
        return out
    }
}
