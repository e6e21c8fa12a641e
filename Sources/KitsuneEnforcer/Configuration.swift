// Builds the effective policy: built-in defaults, then --policy FILE, then flags; validates every
// path before anything is started.
import CKitsuneSys

/// Everything the supervisor needs, validated.
struct Configuration {
    var policy: Policy
    var manifest: ManifestIndex?
    /// System roots given explicitly (a missing one is an error); defaults that are missing are skipped.
    var explicitSystem = false
    /// `--check` only: paths whose existence is a run-time fact, left unchecked (a layer is built on a
    /// machine without `/var/task`).
    var runTimeOnly: [Bytes] = []
}

/// A configuration error: printed as one line, exit 2, nothing started.
struct ConfigError: Error {
    let message: Bytes
    init(_ m: Bytes) { message = m }
}

/// Resolve the configuration from the parsed options.
func loadConfiguration(_ o: Options) throws(ConfigError) -> Configuration {
    var policy = Policy()
    do { try PolicyLoader.apply(Bytes(PackageResources.default_policy_yaml), to: &policy) } catch {
        throw ConfigError(error.render(file: Bytes(literal: "built-in default policy")))
    }
    let defaultSystem = policy.systemRoots
    policy.systemRoots = []
    if let file = o.policyFile {
        let (text, err) = readFile(file)
        guard let text else { throw ConfigError(Bytes(literal: "cannot read policy ") + file + Bytes(literal: ": ") + errorText(err)) }
        do { try PolicyLoader.apply(text, to: &policy) } catch { throw ConfigError(error.render(file: file)) }
    }
    var explicitSystem = !policy.systemRoots.isEmpty
    if let m = o.mode { policy.mode = m }
    if !o.packages.isEmpty { policy.packageRoots = o.packages }
    if !o.systems.isEmpty { policy.systemRoots = o.systems; explicitSystem = true }
    if !explicitSystem { policy.systemRoots = defaultSystem }
    if let m = o.manifest { policy.manifest = m }
    if let e = o.events { policy.events = e }
    if let a = o.interpreterScripts { policy.interpreterScripts = a }
    if let a = o.nativeCode { policy.nativeCode = a }
    for b in o.blocks {
        do { try policy.addBlock(b) } catch { throw ConfigError(Bytes(literal: "--block ") + b + Bytes(literal: ": ") + error.message) }
    }
    for a in o.allows {
        do { try policy.addAllow(a) } catch { throw ConfigError(Bytes(literal: "--allow ") + a + Bytes(literal: ": ") + error.message) }
    }

    // Canonical paths: exec'd files are judged by their resolved path (/bin/sh → /usr/bin/dash).
    // `--check` validates what is known at build time; where a directory or the manifest exists is
    // learnt at run time.
    var runTimeOnly: [Bytes] = []
    var packages: [Bytes] = []
    for p in policy.packageRoots {
        guard p.first == 47 else { throw ConfigError(Bytes(literal: "package directory must be absolute: ") + p) }
        guard let c = canonicalDirectory(p) else {
            if o.check { packages.append(p); runTimeOnly.append(p); continue }
            throw ConfigError(Bytes(literal: "package directory does not exist or is not a directory: ") + p)
        }
        packages.append(c)
    }
    var systems: [Bytes] = []
    for p in policy.systemRoots {
        guard p.first == 47 else { throw ConfigError(Bytes(literal: "system directory must be absolute: ") + p) }
        if let c = canonicalDirectory(p) {
            if !systems.contains(c) { systems.append(c) }
        } else if explicitSystem && o.check {
            if !systems.contains(p) { systems.append(p); runTimeOnly.append(p) }
        } else if explicitSystem {
            throw ConfigError(Bytes(literal: "system directory does not exist or is not a directory: ") + p)
        }
    }
    policy.packageRoots = packages
    policy.systemRoots = systems
    policy.allow = policy.allow.map { entry in
        if entry.last == 47 { return (canonicalDirectory(entry).map { $0 + [47] }) ?? entry }
        return canonicalExisting(entry) ?? entry
    }
    policy.blockPaths = policy.blockPaths.map { canonicalExisting($0) ?? $0 }

    var manifest: ManifestIndex?
    if let m = policy.manifest {
        let (text, err) = readFile(m, limit: 64 << 20)
        if let text {
            do { manifest = try ManifestIndex.parse(text) } catch { throw ConfigError(error.render(file: m)) }
        } else if o.check && err == ks_errno_enoent() {
            runTimeOnly.append(m)
        } else {
            throw ConfigError(Bytes(literal: "cannot read manifest ") + m + Bytes(literal: ": ") + errorText(err))
        }
    }
    return Configuration(policy: policy, manifest: manifest, explicitSystem: explicitSystem, runTimeOnly: runTimeOnly)
}
