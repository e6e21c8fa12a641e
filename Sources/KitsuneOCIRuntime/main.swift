// kitsune-oci-runtime: an OCI runtime that is runc with the enforcer in front of every container's
// process (podman --runtime, a containerd runtime handler behind a Kubernetes RuntimeClass, CRI-O).
// `create` and `run` rewrite the bundle's config.json (BundleProtector), then every subcommand and
// flag goes to runc unchanged.
import Foundation
import KitsuneContainer
import KitsunePolicy

let environment = ProcessInfo.processInfo.environment
let arguments = Array(CommandLine.arguments.dropFirst())
let parsed = RuntimeArguments(arguments)

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("kitsune-oci-runtime: \(message)\n".utf8))
    exit(1)
}

if parsed.command == "create" || parsed.command == "run" {
    guard let enforcer = EnforcerBinary.locate() else { fail("kitsune-enforcer not found beside kitsune-oci-runtime (or KITSUNE_ENFORCER)") }
    let cache = environment["KITSUNE_OCI_CACHE"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/cache/kitsune"
    var policy: [UInt8]?
    if let file = environment["KITSUNE_OCI_POLICY"], !file.isEmpty {
        guard let data = FileManager.default.contents(atPath: file) else { fail("KITSUNE_OCI_POLICY=\(file): cannot be read") }
        policy = [UInt8](data)
    }
    let mode = environment["KITSUNE_OCI_MODE"].flatMap { $0.isEmpty ? nil : $0 }
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

let runc = environment["KITSUNE_RUNC"].flatMap { $0.isEmpty ? nil : $0 } ?? "runc"
var argv = ([runc] + arguments).map { strdup($0) }
argv.append(nil)
execvp(runc, &argv)
fail("cannot execute \(runc): \(String(cString: strerror(errno)))")
