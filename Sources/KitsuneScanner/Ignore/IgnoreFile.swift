import Foundation
import KitsuneFindings
import Yams

/// Accepted exceptions (`--ignore FILE`): YAML, either a list or `{ignores: [...]}`:
///
/// ```yaml
/// ignores:
///   - id: 3f1c9a0b5e7d2c44          # a finding id, or:
///     reason: rotated, test account
///     expires: 2026-12-31           # optional; after this date the entry stops applying
///   - rule: secret/jwt
///     path: "tests/**"              # glob on the location path: * (one segment), ** (any), ?
///     reason: test fixtures
/// ```
public struct IgnoreFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: String?
        public var rule: String?
        public var path: String?
        public var reason: String
        /// `YYYY-MM-DD` (UTC); the entry applies through that day.
        public var expires: String?
        let expiryDate: Date?
        let pathPattern: NSRegularExpression?
    }

    public var entries: [Entry]
    public let source: String

    private struct RawEntry: Decodable {
        var id: String?
        var rule: String?
        var path: String?
        var reason: String?
        var expires: String?
    }

    private struct Wrapper: Decodable { var ignores: [RawEntry] }

    /// Loads and validates an ignore file; errors name the file (and the line for YAML syntax errors).
    public static func load(path: String) throws -> IgnoreFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ScanInputError(input: path, reason: "cannot read the ignore file")
        }
        return try parse(text, source: path)
    }

    /// Parses ignore file text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> IgnoreFile {
        let raw: [RawEntry]
        do {
            guard let node = try Yams.compose(yaml: text) else { return IgnoreFile(entries: [], source: source) }
            if node.mapping != nil {
                raw = try YAMLDecoder().decode(Wrapper.self, from: node).ignores
            } else {
                raw = try YAMLDecoder().decode([RawEntry].self, from: node)
            }
        } catch let error as YamlError {
            throw ScanInputError(input: source, reason: "invalid YAML: \(error)")
        } catch let error as DecodingError {
            throw ScanInputError(input: source, reason: "unexpected structure: \(JSONErrorDescription.describe(error, in: Data()))")
        }
        var entries: [Entry] = []
        for (index, item) in raw.enumerated() {
            let label = "ignore entry #\(index + 1)"
            guard item.id != nil || item.rule != nil else {
                throw ScanInputError(input: source, reason: "\(label): needs an `id`, or a `rule` (optionally with a `path` glob)")
            }
            guard let reason = item.reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ScanInputError(input: source, reason: "\(label): a `reason` is required")
            }
            var expiry: Date?
            if let expires = item.expires {
                guard let date = Self.day(expires) else {
                    throw ScanInputError(input: source, reason: "\(label): expires \"\(expires)\" is not a YYYY-MM-DD date")
                }
                expiry = date
            }
            let pattern = try item.path.map { glob -> NSRegularExpression in
                do { return try NSRegularExpression(pattern: Self.regex(forGlob: glob)) } catch {
                    throw ScanInputError(input: source, reason: "\(label): invalid path glob \"\(glob)\"")
                }
            }
            entries.append(Entry(id: item.id, rule: item.rule, path: item.path, reason: reason, expires: item.expires,
                                 expiryDate: expiry, pathPattern: pattern))
        }
        return IgnoreFile(entries: entries, source: source)
    }

    /// Splits `findings` into kept and suppressed; expired entries do not apply and produce a note.
    public func apply(to findings: [Finding], now: Date = Date()) -> (kept: [Finding], suppressed: [SuppressedFinding], notes: [String]) {
        var kept: [Finding] = []
        var suppressed: [SuppressedFinding] = []
        var expiredHits: [Int: Int] = [:]
        for finding in findings {
            var applied = false
            for (index, entry) in entries.enumerated() where entry.matches(finding) {
                if let expiry = entry.expiryDate, now >= expiry.addingTimeInterval(86_400) {
                    expiredHits[index, default: 0] += 1
                    continue
                }
                suppressed.append(SuppressedFinding(finding: finding, reason: entry.reason, expires: entry.expires))
                applied = true
                break
            }
            if !applied { kept.append(finding) }
        }
        var notes: [String] = []
        for (index, entry) in entries.enumerated() {
            guard let expiry = entry.expiryDate, now >= expiry.addingTimeInterval(86_400), let expires = entry.expires else { continue }
            let what = entry.id.map { "id \($0)" } ?? "rule \(entry.rule ?? "")\(entry.path.map { " path \($0)" } ?? "")"
            notes.append("\(source): ignore entry #\(index + 1) (\(what), \"\(entry.reason)\") expired on \(expires) and no longer applies"
                         + ((expiredHits[index] ?? 0) > 0 ? " — \(expiredHits[index] ?? 0) finding(s) are reported again." : "."))
        }
        return (kept, suppressed, notes)
    }

    static func day(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.date(from: text)
    }

    /// `**` any characters, `*` any except `/`, `?` one character except `/`.
    static func regex(forGlob glob: String) -> String {
        var out = "^"
        var chars = Array(glob)[...]
        while let c = chars.popFirst() {
            switch c {
            case "*":
                if chars.first == "*" {
                    chars.removeFirst()
                    if chars.first == "/" { chars.removeFirst(); out += "(?:.*/)?" } else { out += ".*" }
                } else { out += "[^/]*" }
            case "?": out += "[^/]"
            default: out += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        return out + "$"
    }
}

extension IgnoreFile.Entry {
    func matches(_ finding: Finding) -> Bool {
        if let id, id != finding.id { return false }
        if let rule, rule != finding.ruleID { return false }
        if let pattern = pathPattern {
            guard let path = finding.location?.path else { return false }
            return pattern.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
        }
        return true
    }
}
