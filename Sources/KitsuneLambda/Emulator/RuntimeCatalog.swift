import Foundation

/// How one runtime id starts, as declared in `Data/runtimes.json`.
public struct RuntimeSpec: Decodable, Sendable, Equatable {
    /// `managed` (interpreter + arguments; honours `AWS_LAMBDA_EXEC_WRAPPER`) or `provided` (bootstrap).
    public enum Kind: String, Decodable, Sendable { case managed, provided }
    /// The kind of runtime.
    public var kind: Kind
    /// Managed: candidate interpreter paths on the host, first existing wins.
    public var interpreters: [String]?
    /// Managed: arguments after the interpreter; `{handler}` is replaced by the handler.
    public var arguments: [String]?
    /// Extra environment for the runtime process.
    public var environment: [String: String]?
    /// Provided: bootstrap paths inside the sandbox, first existing wins.
    public var bootstraps: [String]?
    /// What the host must have installed (for error messages).
    public var requires: String?
}

/// The table of supported runtimes, loaded from the target's resources.
public struct RuntimeCatalog: Sendable {
    /// Runtime id → spec.
    public let runtimes: [String: RuntimeSpec]

    private struct File: Decodable { var runtimes: [String: RuntimeSpec] }

    /// Loads `Data/runtimes.json` from the module bundle.
    public static func bundled() throws(EmulatorError) -> RuntimeCatalog {
        guard let url = Bundle.module.url(forResource: "runtimes", withExtension: "json", subdirectory: "Data") else {
            throw .system("runtimes.json is missing from the KitsuneLambda resources")
        }
        return try load(url)
    }

    /// Loads a runtime table from `url`.
    public static func load(_ url: URL) throws(EmulatorError) -> RuntimeCatalog {
        do {
            let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
            return RuntimeCatalog(runtimes: file.runtimes)
        } catch {
            throw .system("cannot read runtime table \(url.path): \(error)")
        }
    }

    /// Supported runtime ids, sorted.
    public var supported: [String] { runtimes.keys.sorted() }

    /// The spec for `id`, or an error listing the supported ids.
    public func spec(for id: String) throws(EmulatorError) -> RuntimeSpec {
        guard let spec = runtimes[id] else { throw .unsupportedRuntime(id, supported: supported) }
        return spec
    }

    /// The directory holding the bundled runtime helpers (mounted read-only at /var/runtime).
    static func runtimeDirectory() throws(EmulatorError) -> URL {
        guard let url = Bundle.module.url(forResource: "node-runtime", withExtension: nil, subdirectory: "Data") else {
            throw .system("node-runtime is missing from the KitsuneLambda resources")
        }
        return url.deletingLastPathComponent()
    }
}

/// The command line that starts the runtime, resolved for one function.
struct RuntimeCommand: Equatable {
    /// Executable path as seen inside the sandbox.
    var executable: String
    /// Full argv (argv[0] included).
    var arguments: [String]
    /// Extra environment from the runtime spec.
    var environment: [String: String]

    /// Resolves `spec` for `handler`. `hostPath` maps a sandbox path to where it is on the host
    /// (so bootstrap lookup sees the files the sandbox will see).
    static func resolve(runtimeID: String, spec: RuntimeSpec, handler: String, execWrapper: String?,
                        hostPath: (String) -> String?) throws(EmulatorError) -> RuntimeCommand {
        let fm = FileManager.default
        switch spec.kind {
        case .provided:
            // provided.* ignore AWS_LAMBDA_EXEC_WRAPPER, like Lambda.
            let candidates = spec.bootstraps ?? []
            for candidate in candidates {
                guard let host = hostPath(candidate) else { continue }
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: host, isDirectory: &isDir), !isDir.boolValue {
                    guard fm.isExecutableFile(atPath: host) else {
                        throw .runtimeUnavailable("\(runtimeID): \(candidate) exists but is not executable (chmod +x it before zipping)")
                    }
                    return RuntimeCommand(executable: candidate, arguments: [candidate], environment: spec.environment ?? [:])
                }
            }
            throw .runtimeUnavailable("\(runtimeID): no bootstrap found; looked for \(candidates.joined(separator: ", "))")
        case .managed:
            let candidates = spec.interpreters ?? []
            guard let interpreter = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) else {
                throw .runtimeUnavailable("\(runtimeID): no interpreter found at \(candidates.joined(separator: ", "))"
                                          + (spec.requires.map { "; needs \($0)" } ?? ""))
            }
            let args = (spec.arguments ?? []).map { $0.replacingOccurrences(of: "{handler}", with: handler) }
            var argv = [interpreter] + args
            var executable = interpreter
            if let wrapper = execWrapper, !wrapper.isEmpty {
                // Lambda: the wrapper gets the runtime's command as its arguments and must exec "$@".
                argv = [wrapper] + argv
                executable = wrapper
            }
            return RuntimeCommand(executable: executable, arguments: argv, environment: spec.environment ?? [:])
        }
    }
}
