import Crypto
import Foundation
import KitsuneFindings

/// One secret found in one file, already masked (the secret itself is never kept).
public struct SecretMatch: Sendable, Hashable {
    public var ruleID: String
    public var description: String
    public var severity: Severity
    public var line: Int
    public var column: Int
    /// The secret masked (`AKIA************MPLE`); pairs join both halves with ` + `.
    public var masked: String
    /// First 16 hex digits of the SHA-256 of the secret (pairs: of both halves), for dedupe and ignores.
    public var secretHash: String
    /// Hashes of the parts of a pair (so single-part matches of the same secret are dropped).
    var partHashes: [String]
    /// Absolute byte range of the whole regex match in the file, and whether the rule is generic.
    var span: Range<Int> = 0..<0
    var generic = false
}

/// Scans one file's bytes, fed chunk by chunk, for secrets: a keyword pass over raw bytes finds the
/// few places worth looking at, and the rule's regex only runs on a window of text around each hit.
final class SecretStreamScanner {
    private let rules: SecretRuleSet
    private let binary: Bool
    private var buffer: [UInt8] = []
    /// Absolute offset of `buffer[0]` in the file.
    private var base = 0
    /// Position in `buffer` from which keyword hits have not been looked at yet.
    private var scanFrom = 0
    private var linesCountedTo = 0
    private var lineNumber = 1
    private var lastLineStart = 0
    /// Per rule: absolute end of the last window the rule's regex ran on.
    private var ruleWindowEnd: [Int]
    private var seen = Set<String>()
    private(set) var matches: [SecretMatch] = []
    /// At most this many matches are kept per file (hostile inputs cannot grow the report without bound).
    static let maxMatchesPerFile = 500
    /// Set when matches were dropped because of ``maxMatchesPerFile``.
    private(set) var truncated = false

    static let lookBehind = 256
    static let lookAhead = 1024

    init(rules: SecretRuleSet, binary: Bool) {
        self.rules = rules
        self.binary = binary
        self.ruleWindowEnd = Array(repeating: -1, count: rules.rules.count)
    }

    func feed(_ chunk: [UInt8]) {
        buffer.append(contentsOf: chunk)
        process(final: false)
    }

    /// Ends the file; returns every match (pair parts found alone are dropped).
    func finish() -> [SecretMatch] {
        process(final: true)
        let pairParts = Set(matches.flatMap { $0.partHashes.count > 1 ? $0.partHashes : [] })
        let specific = matches.filter { !$0.generic }
        return matches.filter { match in
            if match.partHashes.count == 1 && pairParts.contains(match.secretHash) { return false }
            if match.generic && specific.contains(where: { $0.span.overlaps(match.span) || $0.partHashes.contains(match.secretHash) }) { return false }
            return true
        }
    }

    private func process(final: Bool) {
        let scanTo = final ? buffer.count : max(scanFrom, buffer.count - Self.lookAhead)
        if scanTo > scanFrom { findHits(from: scanFrom, to: scanTo) }
        scanFrom = scanTo
        // Keep the look-behind context, drop the rest.
        let keep = max(0, scanTo - Self.lookBehind - 1024)
        if keep > 0 && !final {
            countLines(upTo: base + keep)
            buffer.removeFirst(keep)
            base += keep
            scanFrom -= keep
        }
    }

    private func findHits(from start: Int, to end: Int) {
        var hits: [(position: Int, keyword: Int)] = []
        let index = rules.keywords
        buffer.withUnsafeBufferPointer { buf in
            index.bigram.withUnsafeBufferPointer { table in
                index.bigramCount.withUnsafeBufferPointer { counts in
                    index.bytes.withUnsafeBufferPointer { words in
                        index.start.withUnsafeBufferPointer { starts in
                            index.length.withUnsafeBufferPointer { lengths in
                                KeywordIndex.lower.withUnsafeBufferPointer { lower in
                                    let count = buf.count
                                    var i = start
                                    let last = min(end, count - 1)
                                    while i < last {
                                        let key = Int(lower[Int(buf[i])]) << 8 | Int(lower[Int(buf[i + 1])])
                                        let first = Int(table[key])
                                        if first >= 0 {
                                            for k in first..<(first + Int(counts[key])) {
                                                let length = lengths[k]
                                                if i + length > count { continue }
                                                let offset = starts[k]
                                                var j = 2
                                                while j < length && lower[Int(buf[i + j])] == words[offset + j] { j += 1 }
                                                if j == length { hits.append((i, k)) }
                                            }
                                        }
                                        i += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for hit in hits {
            for ruleIndex in index.rules[hit.keyword] { evaluate(ruleIndex: ruleIndex, at: hit.position) }
        }
    }

    private func evaluate(ruleIndex: Int, at position: Int) {
        let rule = rules.rules[ruleIndex]
        if binary && !rule.scanBinary { return }
        if matches.count >= Self.maxMatchesPerFile { truncated = true; return }
        if base + position < ruleWindowEnd[ruleIndex] { return }
        if rule.assignment && !assignmentFollows(position) { return }
        // Window: back to the line start (at most lookBehind), forward to the line end (or further
        // for multi-line rules), at most lookAhead.
        var lo = position
        let minLo = max(0, position - Self.lookBehind)
        while lo > minLo && buffer[lo - 1] != 0x0A { lo -= 1 }
        var hi = position
        let maxHi = min(buffer.count, position + (rule.multiline ? Self.lookAhead : 512))
        while hi < maxHi && (rule.multiline || buffer[hi] != 0x0A) { hi += 1 }
        ruleWindowEnd[ruleIndex] = base + hi
        let text = String(decoding: buffer[lo..<hi], as: UTF8.self)
        let range = NSRange(text.startIndex..., in: text)
        for match in rule.regex.matches(in: text, range: range) {
            guard let (secret, secretRange) = Self.secret(of: match, group: rule.secretGroup, in: text) else { continue }
            if rule.entropy > 0 && Self.entropy(secret) < rule.entropy { continue }
            if rules.isAllowed(secret, rule: rule.allowlist) { continue }
            let offsetInWindow = text.utf8.distance(from: text.startIndex, to: secretRange.lowerBound)
            guard let whole = Range(match.range, in: text) else { continue }
            let matchStart = base + lo + text.utf8.distance(from: text.startIndex, to: whole.lowerBound)
            let matchEnd = base + lo + text.utf8.distance(from: text.startIndex, to: whole.upperBound)
            let absolute = base + lo + offsetInWindow
            var ruleID = rule.id
            var description = rule.description
            var severity = rule.severity
            var masked = Self.mask(secret)
            var parts = [Self.hash(secret)]
            if let pair = rule.pair, let partner = findPartner(pair, around: lo + offsetInWindow, length: secret.utf8.count) {
                ruleID = pair.id
                description = pair.description
                severity = pair.severity
                masked += " + " + Self.mask(partner)
                parts.append(Self.hash(partner))
            }
            let key = "\(ruleID)@\(absolute)"
            guard !seen.contains(key) else { continue }
            seen.insert(key)
            let (line, column) = location(ofAbsolute: matchStart)
            matches.append(SecretMatch(ruleID: ruleID, description: description, severity: severity, line: line,
                                       column: column, masked: masked, secretHash: parts.count > 1 ? Self.hash(parts.joined()) : parts[0],
                                       partHashes: parts, span: matchStart..<matchEnd, generic: rule.generic))
        }
    }

    /// Cheap check before a generic rule's regex: the keyword, possibly extended by identifier
    /// characters and a closing quote, is followed by `=` or `:` (`db_password = `, `"token":`).
    private func assignmentFollows(_ position: Int) -> Bool {
        var i = position
        let end = min(buffer.count, position + 64)
        while i < end {
            let b = buffer[i]
            let isIdentifier = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D || b == 0x2E
            if !isIdentifier { break }
            i += 1
        }
        var skipped = 0
        while i < end && skipped < 4 && (buffer[i] == 0x22 || buffer[i] == 0x27 || buffer[i] == 0x20 || buffer[i] == 0x09) {
            i += 1
            skipped += 1
        }
        return i < end && (buffer[i] == 0x3D || buffer[i] == 0x3A)
    }

    /// The second half of a pair rule near a match (e.g. the secret access key near a key id).
    private func findPartner(_ pair: CompiledPair, around position: Int, length: Int) -> String? {
        let lo = max(0, position - pair.window)
        let hi = min(buffer.count, position + length + pair.window)
        let text = String(decoding: buffer[lo..<hi], as: UTF8.self)
        for match in pair.regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let (candidate, _) = Self.secret(of: match, group: pair.secretGroup, in: text) else { continue }
            if Self.entropy(candidate) < pair.entropy { continue }
            if rules.isAllowed(candidate, rule: []) { continue }
            return candidate
        }
        return nil
    }

    private func countLines(upTo absolute: Int) {
        guard absolute > linesCountedTo else { return }
        var i = linesCountedTo - base
        let end = absolute - base
        buffer.withUnsafeBytes { raw in
            guard let basePointer = raw.baseAddress else { return }
            while i < end, let hit = memchr(basePointer + i, 0x0A, end - i) {
                let at = basePointer.distance(to: UnsafeRawPointer(hit))
                lineNumber += 1
                lastLineStart = base + at + 1
                i = at + 1
            }
        }
        linesCountedTo = absolute
    }

    private func location(ofAbsolute absolute: Int) -> (Int, Int) {
        countLines(upTo: absolute)
        return (lineNumber, absolute - lastLineStart + 1)
    }

    static func secret(of match: NSTextCheckingResult, group: Int, in text: String) -> (String, Range<String.Index>)? {
        var candidates: [Int] = []
        if group >= 0 { candidates = [min(group, match.numberOfRanges - 1)] } else { candidates = Array(1..<max(1, match.numberOfRanges)) }
        for g in candidates {
            let nsRange = match.range(at: g)
            if nsRange.location != NSNotFound, let range = Range(nsRange, in: text), !range.isEmpty {
                return (String(text[range]), range)
            }
        }
        return nil
    }

    /// Shannon entropy in bits per character.
    static func entropy(_ s: String) -> Double {
        var counts: [UInt8: Int] = [:]
        var total = 0
        for b in s.utf8 { counts[b, default: 0] += 1; total += 1 }
        guard total > 0 else { return 0 }
        return counts.values.reduce(0.0) { acc, c in
            let p = Double(c) / Double(total)
            return acc - p * log2(p)
        }
    }

    /// Shows at most the first 4 and last 2 characters, never more than a third of the secret.
    static func mask(_ secret: String) -> String {
        let chars = Array(secret)
        let n = chars.count
        if n < 8 { return String(repeating: "*", count: max(n, 4)) }
        let head = min(4, n / 3)
        let tail = min(2, n / 6)
        return String(chars[0..<head]) + String(repeating: "*", count: min(n - head - tail, 32)) + String(chars[(n - tail)...])
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
