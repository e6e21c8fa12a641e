// kitsune-oci-runtime: an OCI runtime that is runc with the enforcer in front of every container's
// process (podman --runtime, a containerd runtime handler behind a Kubernetes RuntimeClass, CRI-O).
// `create` and `run` rewrite the bundle's config.json (BundleProtector), then every subcommand and
// flag goes to runc unchanged.
import Foundation
import KitsuneContainer
import KitsunePolicy

let parsed = RuntimeArguments(Array(CommandLine.arguments.dropFirst()))
/// A setting from Kitsune's own global flag, else the environment (engines such as podman start the
/// runtime with a clean environment: flags are what reaches it).
func setting(_ flag: String, _ variable: String) -> String? {
    if let v = parsed.kitsuneFlags[flag], !v.isEmpty { return v }
    if let v = ProcessInfo.processInfo.environment[variable], !v.isEmpty { return v }
    return nil
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("kitsune-oci-runtime: \(message)\n".utf8))
    exit(1)
}

if parsed.command == "create" || parsed.command == "run" {
    guard let enforcer = EnforcerBinary.locate() else { fail("kitsune-enforcer not found beside kitsune-oci-runtime (or KITSUNE_ENFORCER)") }
    let cache = setting("kitsune-cache", "KITSUNE_OCI_CACHE") ?? "/var/cache/kitsune"
    var policy: [UInt8]?
    if let file = setting("kitsune-policy", "KITSUNE_OCI_POLICY") {
        guard let data = FileManager.default.contents(atPath: file) else { fail("KITSUNE_OCI_POLICY=\(file): cannot be read") }
        policy = [UInt8](data)
    }
    let mode = setting("kitsune-mode", "KITSUNE_OCI_MODE")
    if let mode, mode != "enforce" && mode != "audit" { fail("KITSUNE_OCI_MODE must be enforce or audit, not \(mode)") }
    do {
        let protector = BundleProtector(cacheDirectory: cache, enforcer: enforcer,
                                        ship: (enforcer as NSString).deletingLastPathComponent + "/kitsune-ship",
                                        policy: policy, mode: mode, rules: try .builtIn())
        try protector.protect(bundle: parsed.bundle ?? FileManager.default.currentDirectoryPath, containerID: parsed.containerID ?? "")
    } catch {
        // Fail closed: a container Kitsune was asked to protect never starts unprotected.
        fail("cannot protect the container: \(error)")
    }
}

let runc = setting("kitsune-runc", "KITSUNE_RUNC") ?? "runc"
var argv = ([runc] + parsed.passthrough).map { strdup($0) }
argv.append(nil)
execvp(runc, &argv)
fail("cannot execute \(runc): \(String(cString: strerror(errno)))")
