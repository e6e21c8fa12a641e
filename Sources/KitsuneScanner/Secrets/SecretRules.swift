import Foundation
import KitsuneFindings

/// The secret rule file format (`Rules/secrets.json`, or a user file with the same schema).
public struct SecretRuleFile: Codable, Sendable {
    public struct Pair: Codable, Sendable {
        public var id: String
        public var description: String
        public var severity: Severity
        public var regex: String
        public var secretGroup: Int?
        public var entropy: Double?
        /// Bytes around the primary match searched for the second half of the pair.
        public var window: Int?
    }

    public struct Rule: Codable, Sendable {
        public var id: String
        public var description: String
        public var severity: Severity
        /// Lower-case byte strings (≥ 2 bytes) searched case-insensitively before the regex runs.
        public var keywords: [String]
        public var regex: String
        /// Capture group of the secret: 0 the whole match, -1 the first group that matched.
        public var secretGroup: Int?
        public var entropy: Double?
        public var allowlist: [String]?
        public var scanBinary: Bool?
        public var multiline: Bool?
        /// A broad rule: its matches are dropped where a specific rule matched overlapping text.
        public var generic: Bool?
        /// Only consider keyword hits followed, within a short identifier, by `=` or `:`.
        public var assignment: Bool?
        public var pair: Pair?
    }

    public var version: Int
    /// A secret containing one of these (case-insensitive) is a placeholder, not a finding.
    public var stopwords: [String]
    /// A secret equal to one of these (case-insensitive) is a placeholder.
    public var placeholderValues: [String]
    /// Regexes: a secret matching one is not reported, whatever the rule.
    public var allowlist: [String]
    public var rules: [Rule]
}

/// A compiled rule.
struct CompiledSecretRule: @unchecked Sendable {
    // @unchecked: NSRegularExpression is immutable and documented thread safe.
    let id: String
    let description: String
    let severity: Severity
    let regex: NSRegularExpression
    let secretGroup: Int
    let entropy: Double
    let allowlist: [NSRegularExpression]
    let scanBinary: Bool
    let multiline: Bool
    let generic: Bool
    let assignment: Bool
    let pair: CompiledPair?
}

struct CompiledPair: @unchecked Sendable {
    let id: String
    let description: String
    let severity: Severity
    let regex: NSRegularExpression
    let secretGroup: Int
    let entropy: Double
    let window: Int
}

/// Secret rules ready to run: regexes compiled, keywords indexed by their first two bytes.
public struct SecretRuleSet: @unchecked Sendable {
    // @unchecked: only immutable values and thread-safe NSRegularExpression.
    let rules: [CompiledSecretRule]
    let stopwords: [String]
    let placeholderValues: Set<String>
    let allowlist: [NSRegularExpression]
    let keywords: KeywordIndex

    /// The built-in rules shipped in the scanner's resources (`Rules/secrets.json`).
    public static func builtIn() throws -> SecretRuleSet {
        guard let url = Bundle.module.url(forResource: "secrets", withExtension: "json", subdirectory: "Rules") else {
            throw ScanInputError(input: "Rules/secrets.json", reason: "built-in secret rules are missing from the scanner resources")
        }
        return try load(contentsOf: url.path)
    }

    /// Loads a rule file with the ``SecretRuleFile`` schema.
    public static func load(contentsOf path: String) throws -> SecretRuleSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScanInputError(input: path, reason: "cannot read secret rule file")
        }
        let file: SecretRuleFile
        do {
            file = try JSONDecoder().decode(SecretRuleFile.self, from: data)
        } catch {
            throw ScanInputError(input: path, reason: "invalid secret rule file: \(JSONErrorDescription.describe(error, in: data))")
        }
        return try SecretRuleSet(file: file, name: path)
    }

    /// Compiles `file`; `name` is used in error messages.
    public init(file: SecretRuleFile, name: String) throws {
        func compile(_ pattern: String, _ what: String) throws -> NSRegularExpression {
            do { return try NSRegularExpression(pattern: pattern) } catch {
                throw ScanInputError(input: name, reason: "\(what): invalid regex \(pattern): \(error.localizedDescription)")
            }
        }
        var compiled: [CompiledSecretRule] = []
        var keywordRules: [(String, Int)] = []
        for (index, rule) in file.rules.enumerated() {
            guard !rule.keywords.isEmpty else {
                throw ScanInputError(input: name, reason: "rule \(rule.id): needs at least one keyword")
            }
            for keyword in rule.keywords {
                guard keyword.utf8.count >= 2 else {
                    throw ScanInputError(input: name, reason: "rule \(rule.id): keyword \"\(keyword)\" is shorter than 2 bytes")
                }
                keywordRules.append((keyword.lowercased(), index))
            }
            let pair = try rule.pair.map { p in
                CompiledPair(id: p.id, description: p.description, severity: p.severity,
                             regex: try compile(p.regex, "rule \(p.id)"), secretGroup: p.secretGroup ?? 0,
                             entropy: p.entropy ?? 0, window: p.window ?? 512)
            }
            compiled.append(CompiledSecretRule(
                id: rule.id, description: rule.description, severity: rule.severity,
                regex: try compile(rule.regex, "rule \(rule.id)"), secretGroup: rule.secretGroup ?? 0,
                entropy: rule.entropy ?? 0,
                allowlist: try (rule.allowlist ?? []).map { try compile($0, "rule \(rule.id) allowlist") },
                scanBinary: rule.scanBinary ?? false, multiline: rule.multiline ?? false,
                generic: rule.generic ?? false, assignment: rule.assignment ?? false, pair: pair))
        }
        self.rules = compiled
        self.stopwords = file.stopwords.map { $0.lowercased() }
        self.placeholderValues = Set(file.placeholderValues.map { $0.lowercased() })
        self.allowlist = try file.allowlist.map { try compile($0, "global allowlist") }
        self.keywords = KeywordIndex(keywords: keywordRules)
    }

    /// Whether `secret` is a placeholder, a known example or allowlisted for `rule`.
    func isAllowed(_ secret: String, rule allow: [NSRegularExpression]) -> Bool {
        let lower = secret.lowercased()
        if placeholderValues.contains(lower) { return true }
        if stopwords.contains(where: { lower.contains($0) }) { return true }
        let range = NSRange(secret.startIndex..., in: secret)
        for regex in allow + allowlist where regex.firstMatch(in: secret, range: range) != nil { return true }
        return false
    }
}

/// Case-insensitive multi-keyword search over raw bytes: a 64 K table indexed by the first two
/// (lower-cased) bytes of each keyword, so most positions cost one table lookup. Flat arrays (no
/// nested arrays) so the hot loop does no reference counting.
struct KeywordIndex: Sendable {
    /// Per bigram: index of the first keyword with that prefix in `keywords`, or -1.
    let bigram: [Int32]
    /// Per bigram: how many keywords share it (they are contiguous).
    let bigramCount: [UInt8]
    /// Keyword `k` is `bytes[start[k] ..< start[k] + length[k]]` (lower-case).
    let bytes: [UInt8]
    let start: [Int]
    let length: [Int]
    /// Rules triggered by keyword `k`.
    let rules: [[Int]]
    static let lower: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for b in 0..<256 {
            let value = UInt8(b)
            table[b] = (value >= 65 && value <= 90) ? value + 32 : value
        }
        return table
    }()

    init(keywords: [(String, Int)]) {
        var byKeyword: [[UInt8]: Set<Int>] = [:]
        for (keyword, rule) in keywords { byKeyword[Array(keyword.utf8), default: []].insert(rule) }
        let sorted = byKeyword.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var table = [Int32](repeating: -1, count: 65536)
        var counts = [UInt8](repeating: 0, count: 65536)
        var bytes: [UInt8] = []
        var start: [Int] = []
        var length: [Int] = []
        var rules: [[Int]] = []
        for (index, keyword) in sorted.enumerated() {
            let key = Int(keyword[0]) << 8 | Int(keyword[1])
            if table[key] < 0 { table[key] = Int32(index) }
            counts[key] += 1
            start.append(bytes.count)
            length.append(keyword.count)
            bytes += keyword
            rules.append((byKeyword[keyword] ?? []).sorted())
        }
        self.bigram = table
        self.bigramCount = counts
        self.bytes = bytes
        self.start = start
        self.length = length
        self.rules = rules
    }
}
