import Foundation

/// Builds the Kitsune Lambda layer: a zip usable as-is with `aws lambda publish-layer-version`,
/// extracted by Lambda under `/opt`:
///
/// ```
/// kitsune/bin/kitsune-enforcer   the static enforcer
/// kitsune/bin/kitsune-ship        the static HTTPS helper for events (when built next to the enforcer)
/// kitsune/wrapper                 AWS_LAMBDA_EXEC_WRAPPER: a copy of the enforcer, which, started by that
///                                 name, protects the runtime's command line with the policy beside it
///                                 (no /bin/sh script to exec first: a shorter cold start)
/// kitsune/policy.yaml             the baked policy (validated with the enforcer's own parser)
/// ```
public enum LayerBuilder {
    /// Where the layer puts things once Lambda has extracted it.
    public static let wrapperPath = "/opt/kitsune/wrapper"
    public static let enforcerPath = "/opt/kitsune/bin/kitsune-enforcer"
    public static let shipPath = "/opt/kitsune/bin/kitsune-ship"
    public static let policyPath = "/opt/kitsune/policy.yaml"

    /// Why a layer could not be built.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The layer's files. `policy` nil means Kitsune's default Lambda policy. `architecture`, when
    /// given, is what the layer is for: the enforcer (and kitsune-ship) must be built for it.
    public static func entries(enforcer: URL, policy: URL?, architecture: LayerArchitecture? = nil) throws -> [ZipWriter.Entry] {
        guard let enforcerData = FileManager.default.contents(atPath: enforcer.path), enforcerData.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else {
            throw Failure(description: "\(enforcer.path): not a kitsune-enforcer binary (build it with `swift build -c release`)")
        }
        guard let built = LayerArchitecture.of(elf: enforcerData) else {
            throw Failure(description: "\(enforcer.path): kitsune-enforcer is \(LayerArchitecture.describe(enforcerData)), not x86_64 or arm64")
        }
        if let architecture, architecture != built {
            throw Failure(description: "\(enforcer.path): kitsune-enforcer is \(built.rawValue), but the layer is for \(architecture.rawValue)")
        }
        let policyData: Data
        if let policy {
            guard let d = FileManager.default.contents(atPath: policy.path) else { throw Failure(description: "cannot read policy \(policy.path)") }
            policyData = d
            let deferred = try validate(policy: policy, with: try validator(for: enforcer, built: built))
            // Paths inside this layer are known now: a policy may not name a file the layer lacks.
            let layerFiles = ["kitsune/bin/kitsune-enforcer", "kitsune/bin/kitsune-ship", "kitsune/policy.yaml", "kitsune/wrapper"]
            for path in deferred where path.hasPrefix("/opt/kitsune/") && !layerFiles.contains(String(path.dropFirst(5))) {
                throw Failure(description: "\(policy.path): names \(path), which is inside the Kitsune layer but not one of its files (\(layerFiles.map { "/opt/" + $0 }.joined(separator: ", ")))")
            }
        } else {
            policyData = try resource("policy.yaml")
        }
        var entries = [ZipWriter.Entry(path: "kitsune/bin/kitsune-enforcer", data: enforcerData, mode: 0o755)]
        if let ship = try shipData(nextTo: enforcer, architecture: built) {
            entries.append(ZipWriter.Entry(path: "kitsune/bin/kitsune-ship", data: ship, mode: 0o755))
        }
        entries.append(ZipWriter.Entry(path: "kitsune/policy.yaml", data: policyData, mode: 0o644))
        // The enforcer itself, a second copy (not a link: every zip extractor keeps a regular file).
        entries.append(ZipWriter.Entry(path: "kitsune/wrapper", data: enforcerData, mode: 0o755))
        return entries
    }

    /// The `kitsune-ship` binary built next to the enforcer (`swift build` makes both; the enforcer's
    /// path or, when that is a symbolic link, its target), if any. It is optional: without it the layer
    /// still works, and only shipping events to an `https://` URL is unavailable. It must be built for
    /// the enforcer's architecture.
    static func shipData(nextTo enforcer: URL, architecture: LayerArchitecture) throws -> Data? {
        let candidates = [enforcer, enforcer.resolvingSymlinksInPath()].map {
            $0.deletingLastPathComponent().appendingPathComponent("kitsune-ship")
        }
        guard let ship = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else { return nil }
        guard let data = FileManager.default.contents(atPath: ship.path), data.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else {
            throw Failure(description: "\(ship.path): not a kitsune-ship binary (build it with `swift build -c release`, or remove it)")
        }
        guard LayerArchitecture.of(elf: data) == architecture else {
            throw Failure(description: "\(ship.path): kitsune-ship is \(LayerArchitecture.describe(data)), but the enforcer beside it is \(architecture.rawValue)")
        }
        return data
    }

    /// The enforcer that checks a policy: the layer's own when it runs here, else the one built for
    /// this machine beside `kitsune` (the same policy parser, compiled for another architecture).
    static func validator(for enforcer: URL, built: LayerArchitecture) throws -> URL {
        if built == .host { return enforcer }
        do { return try LayerBinaries.enforcer(for: .host, environment: [:]) } catch {
            throw Failure(description: "cannot validate the policy: \(enforcer.path) is \(built.rawValue) and does not run here, and \(error)")
        }
    }

    /// The layer zip's bytes.
    public static func archive(enforcer: URL, policy: URL?, architecture: LayerArchitecture? = nil) throws -> Data {
        try ZipWriter.archive(try entries(enforcer: enforcer, policy: policy, architecture: architecture))
    }

    /// Write the layer as a directory tree (what Lambda extracts under /opt), for local runs.
    public static func install(enforcer: URL, policy: URL?, into directory: URL) throws {
        for entry in try entries(enforcer: enforcer, policy: policy) {
            let url = directory.appendingPathComponent(entry.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try entry.data.write(to: url)
            chmod(url.path, mode_t(entry.mode))
        }
    }

    /// The policy must load in the enforcer itself: a layer with a broken policy would fail every init.
    /// What only the function's machine can tell (does `/var/task` exist) is left to run time: the
    /// paths the enforcer deferred are returned.
    @discardableResult
    static func validate(policy: URL, with enforcer: URL) throws -> [String] {
        let p = Process()
        p.executableURL = enforcer
        p.arguments = ["--policy", policy.path, "--check"]
        // The report on a pipe, errors in a file: neither output can block the other.
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-check-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: errFile.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw Failure(description: "cannot create a temporary file in \(FileManager.default.temporaryDirectory.path)")
        }
        defer { try? FileManager.default.removeItem(at: errFile) }
        let out = Pipe()
        p.standardError = try FileHandle(forWritingTo: errFile)
        p.standardOutput = out
        try p.run()
        let report = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let message = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else {
            throw Failure(description: message.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "kitsune-enforcer: ", with: ""))
        }
        let object = (try? JSONSerialization.jsonObject(with: report)) as? [String: Any]
        return object?["checked_at_run_time"] as? [String] ?? []
    }

    /// Kitsune's default Lambda policy, baked into a layer built without `--policy`.
    public static func defaultPolicy() throws -> Data { try resource("policy.yaml") }

    static func resource(_ name: String) throws -> Data {
        guard let base = Bundle.module.resourceURL,
              let data = FileManager.default.contents(atPath: base.appendingPathComponent("Data/layer/\(name)").path) else {
            throw Failure(description: "layer resource \(name) missing from the kitsune installation")
        }
        return data
    }
}
