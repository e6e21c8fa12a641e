import Foundation
import KitsunePolicyCore

/// What a runtime policy's scope is matched against: the facts of one Lambda function.
public struct FunctionFacts: Sendable, Equatable {
    public var name: String
    public var account: String
    public var region: String
    public var runtime: String?
    /// `x86_64` or `arm64` (Lambda's default is `x86_64`).
    public var architecture: String
    public var tags: [String: String]

    public init(name: String, account: String, region: String, runtime: String?, architecture: String = "x86_64", tags: [String: String] = [:]) {
        self.name = name
        self.account = account
        self.region = region
        self.runtime = runtime
        self.architecture = architecture
        self.tags = tags
    }
}

/// The functions a runtime policy covers. Every criterion given must match (AND); within one
/// criterion any entry may match (OR). Values are shell-style globs (`*`, `?`), case-sensitive, as
/// AWS names are. A scope with no criterion at all is refused: a policy never covers "everything" by
/// omission — `functions: ["*"]` says so on purpose.
public struct PolicyScope: Sendable, Equatable {
    /// `KEY=VALUE-GLOB` (or `KEY` alone: the tag is present, any value).
    public var tags: [String] = []
    public var functions: [String] = []
    public var accounts: [String] = []
    public var regions: [String] = []
    public var runtimes: [String] = []
    public var architectures: [String] = []

    public init(tags: [String] = [], functions: [String] = [], accounts: [String] = [], regions: [String] = [],
                runtimes: [String] = [], architectures: [String] = []) {
        self.tags = tags
        self.functions = functions
        self.accounts = accounts
        self.regions = regions
        self.runtimes = runtimes
        self.architectures = architectures
    }

    /// The criteria by their YAML names, in document order.
    public static let fields = ["tags", "functions", "accounts", "regions", "runtimes", "architectures"]

    /// True when no criterion is given.
    public var isEmpty: Bool { tags.isEmpty && functions.isEmpty && accounts.isEmpty && regions.isEmpty && runtimes.isEmpty && architectures.isEmpty }

    /// The number of criteria given: the tie-breaker between policies of equal priority (the more
    /// specific scope wins).
    public var specificity: Int { [tags, functions, accounts, regions, runtimes, architectures].filter { !$0.isEmpty }.count }

    /// Whether `function` is in scope.
    public func matches(_ function: FunctionFacts) -> Bool {
        func any(_ patterns: [String], _ value: String?) -> Bool {
            patterns.isEmpty || value.map { v in patterns.contains { Self.glob(v, $0) } } ?? false
        }
        guard any(functions, function.name), any(accounts, function.account), any(regions, function.region),
              any(runtimes, function.runtime), any(architectures, function.architecture) else { return false }
        return tags.isEmpty || tags.contains { pattern in
            guard let eq = pattern.firstIndex(of: "=") else { return function.tags[pattern] != nil }
            let key = String(pattern[..<eq]), value = String(pattern[pattern.index(after: eq)...])
            return function.tags[key].map { Self.glob($0, value) } ?? false
        }
    }

    /// Shell-style glob match (the enforcer's own matcher).
    public static func glob(_ value: String, _ pattern: String) -> Bool {
        Path.globMatch(Array(value.utf8), Array(pattern.utf8))
    }

    /// Checks one criterion's entries; the message names the field.
    static func check(_ field: String, _ values: [String]) throws(RuntimePolicyError) {
        for value in values {
            guard !value.isEmpty, value.utf8.count <= 256, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw RuntimePolicyError(field: "scope.\(field)", "entries must be 1 to 256 characters without control characters")
            }
            if field == "tags", value.hasPrefix("=") { throw RuntimePolicyError(field: "scope.tags", "'\(value)': expected KEY=VALUE with a non-empty KEY") }
            if field == "accounts", !value.allSatisfy({ $0.isNumber || $0 == "*" || $0 == "?" }) {
                throw RuntimePolicyError(field: "scope.accounts", "'\(value)' is not a 12-digit AWS account id (or a glob of one)")
            }
            if field == "architectures", !["x86_64", "arm64", "*"].contains(value) {
                throw RuntimePolicyError(field: "scope.architectures", "'\(value)': expected x86_64 or arm64")
            }
        }
    }
}

/// Picks the one effective policy of a function: among the policies whose scope matches, the highest
/// `priority` wins; on equal priority the more specific scope (more criteria given); then the name in
/// byte order. Deterministic whatever order the policies come in.
public enum PolicyPrecedence {
    /// The effective policy for `function`, if any covers it.
    public static func effective<P>(for function: FunctionFacts, among policies: [P], policy: (P) -> RuntimePolicy) -> P? {
        var best: P?
        for candidate in policies where policy(candidate).scope.matches(function) {
            guard let current = best else { best = candidate; continue }
            if precedes(policy(candidate), policy(current)) { best = candidate }
        }
        return best
    }

    /// True when `a` wins over `b`.
    public static func precedes(_ a: RuntimePolicy, _ b: RuntimePolicy) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        if a.scope.specificity != b.scope.specificity { return a.scope.specificity > b.scope.specificity }
        return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
    }
}
