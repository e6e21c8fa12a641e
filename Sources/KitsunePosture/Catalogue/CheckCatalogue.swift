import Foundation
import KitsuneFindings
import Yams

/// What a check runs over: once per account/region, once per function, once per execution role.
public enum CheckScope: String, Codable, Sendable {
    case account, function, role
}

/// One catalogue entry of `Data/checks.yaml`: what a check is, how it maps to CIS / Prowler / Checkov,
/// and how to fix it. The logic lives in a ``CheckFamily`` registered for the id.
public struct CheckDefinition: Codable, Hashable, Sendable {
    public var id: String
    public var title: String
    /// CIS AWS Compute Services Benchmark v1.0.0 section (`"4.6"`), empty when the benchmark has none.
    public var cis: String
    public var prowler: [String]
    public var checkov: [String]
    public var severity: Severity
    public var scope: CheckScope
    /// Whether the check also runs on SAM/CloudFormation templates.
    public var `static`: Bool
    public var remediation: String

    /// The Checkov id reported for template findings, if any.
    public var checkovID: String? { checkov.first }
}

/// The loaded check catalogue.
public struct CheckCatalogue: Sendable {
    public var benchmark: String
    public var checks: [CheckDefinition]

    private struct File: Codable {
        var version: Int
        var benchmark: String
        var checks: [CheckDefinition]
    }

    /// Parses a catalogue from YAML text; `source` names the input in errors.
    public init(yaml: String, source: String) throws {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: yaml)
        } catch {
            throw PostureDataError.invalid(source, "\(error)")
        }
        var seen = Set<String>()
        for check in file.checks {
            guard seen.insert(check.id).inserted else {
                throw PostureDataError.invalid(source, "duplicate check id '\(check.id)'")
            }
        }
        benchmark = file.benchmark
        checks = file.checks
    }

    /// The catalogue shipped in the module's resources (`Data/checks.yaml`).
    public static func bundled() throws -> CheckCatalogue {
        try CheckCatalogue(yaml: try PostureResources.text("checks.yaml"), source: "checks.yaml")
    }

    /// The entry for `id`.
    public func definition(_ id: String) -> CheckDefinition? {
        checks.first { $0.id == id }
    }
}

/// Problems with Kitsune's own data files (a packaging error, reported clearly rather than crashing).
public enum PostureDataError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .missing(let name): return "KitsunePosture data file '\(name)' is missing from the bundle"
        case .invalid(let name, let why): return "KitsunePosture data file '\(name)' is invalid: \(why)"
        }
    }
}

/// Access to the files in `Sources/KitsunePosture/Data` (copied as the `Data` folder of the bundle).
enum PostureResources {
    static func url(_ name: String) throws -> URL {
        if let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Data") {
            return url
        }
        if let url = Bundle.module.url(forResource: name, withExtension: nil) { return url }
        throw PostureDataError.missing(name)
    }

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: try url(name))
    }

    static func text(_ name: String) throws -> String {
        guard let text = String(data: try data(name), encoding: .utf8) else {
            throw PostureDataError.invalid(name, "not UTF-8")
        }
        return text
    }

    static func json<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: try data(name))
        } catch let error as PostureDataError {
            throw error
        } catch {
            throw PostureDataError.invalid(name, "\(error)")
        }
    }
}
