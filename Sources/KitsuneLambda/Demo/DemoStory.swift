import Foundation

/// A run mode of the demo: the same story is told once per mode, each with its own cold start.
public enum DemoMode: String, Sendable, CaseIterable, Codable {
    /// The enforcer blocks what the policy forbids.
    case enforce
    /// The enforcer lets everything run and reports what enforce mode would block.
    case audit

    /// The modes named by a `--mode` value: `enforce`, `audit` or `both` (enforce, then audit).
    public static func selection(_ text: String) throws(DemoError) -> [DemoMode] {
        switch text {
        case "both": return [.enforce, .audit]
        case "enforce": return [.enforce]
        case "audit": return [.audit]
        default: throw .invalidOption("--mode '\(text)': expected enforce, audit or both")
        }
    }
}

/// The demo's script, read from `Data/demo/story.json`: the function to deploy and the requests to
/// send it, in order.
public struct DemoStory: Sendable, Decodable {
    /// The deliberately vulnerable function.
    public var function: Function
    /// One invocation per step, in order.
    public var steps: [Step]

    /// How the demo function is packaged and configured.
    public struct Function: Sendable, Decodable {
        /// `AWS_LAMBDA_FUNCTION_NAME`.
        public var name: String
        /// The handler, e.g. `app.handler`.
        public var handler: String
        /// The handler's source file, a name under `Data/demo/` (copied to the package root).
        public var source: String
        /// Runtime ids to try, in order: the first whose interpreter exists on the host is used.
        public var runtimes: [String]
        /// Host files copied into the package.
        public var files: [PackagedFile]
        /// Executables the function legitimately runs: added to the policy as `allow:`.
        public var allow: [String]
        /// The function timeout.
        public var timeoutSeconds: Double
        /// The function memory size.
        public var memoryMB: Int

        enum CodingKeys: String, CodingKey {
            case name, handler, source, runtimes, files, allow
            case timeoutSeconds = "timeout_seconds", memoryMB = "memory_mb"
        }
    }

    /// A host file copied into the function package.
    public struct PackagedFile: Sendable, Decodable {
        /// Absolute host path to copy.
        public var copy: String
        /// Path inside the package (`/var/task/...` once deployed).
        public var to: String
        /// File mode, octal text (e.g. `644`: shipped without its executable bit).
        public var mode: String
    }

    /// One request of the story.
    public struct Step: Sendable, Decodable, Equatable {
        /// Short identifier (`legit`, `env`, `drop`, ...).
        public var id: String
        /// Short label for the summary table.
        public var label: String
        /// One line saying what the request tries.
        public var title: String
        /// The `url` field of the event.
        public var url: String
        /// Whether the request is an attack (else it is the legitimate request that must succeed).
        public var attack: Bool
        /// The control the step is about (an event `reason`), for attacks.
        public var rule: String?
        /// Text in the function's answer proving that the attack worked.
        public var evidence: String?
        /// `reported`: let through in both modes and only reported (a honeypot); else blocked in enforce mode.
        public var expect: String?

        /// Whether enforce mode lets this attack run and only reports it.
        public var onlyReported: Bool { expect == "reported" }
    }

    /// The story shipped with Kitsune.
    public static func bundled() throws(DemoError) -> DemoStory {
        let url = try DemoResources.url("story.json")
        do {
            return try JSONDecoder().decode(DemoStory.self, from: Data(contentsOf: url))
        } catch {
            throw .setup("cannot read the demo story \(url.path): \(error)")
        }
    }
}

/// The demo's data files, under `Data/demo/` in the module's resources.
enum DemoResources {
    /// The URL of a file under `Data/demo/`.
    static func url(_ name: String) throws(DemoError) -> URL {
        guard let base = Bundle.module.resourceURL else {
            throw .setup("the KitsuneLambda resources are missing from the kitsune installation")
        }
        let url = base.appendingPathComponent("Data/demo").appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .setup("demo resource \(name) is missing from the kitsune installation (\(url.path))")
        }
        return url
    }

    /// The contents of a file under `Data/demo/`.
    static func data(_ name: String) throws(DemoError) -> Data {
        let url = try url(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .setup("cannot read demo resource \(url.path)")
        }
        return data
    }
}
