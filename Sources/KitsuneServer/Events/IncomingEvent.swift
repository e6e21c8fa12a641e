import Crypto
import Foundation

/// Limits on what one `POST /api/v1/events` may carry. Each is answered with a clear 4xx.
public struct IngestLimits: Sendable {
    /// Body bytes (413 above).
    public var maxBodyBytes = 4 << 20
    /// Events per batch (413 above).
    public var maxEvents = 1000
    /// Bytes of one event (that event is rejected above).
    public var maxEventBytes = 256 << 10
    public init() {}
}

/// One event as the server keeps it: the sender's bytes verbatim, plus the fields it indexes.
public struct IncomingEvent: Sendable {
    public var body: String
    public var action: String
    public var timeMs: Int64
    public var reason: String?
    public var mode: String?
    public var functionName: String?
    public var accountID: String?
    public var region: String?
    public var requestID: String?
    public var instanceID: String?
    public var seq: Int64?
    public var executable: String?
    /// Lowercased text searched by `q`: argv, paths, detail, names.
    public var search: String
    /// Identifies the event across retries: `i:<instance>:<seq>` from the enforcer, or a hash of the
    /// group and the event's bytes for senders without those fields.
    public var dedupKey: String
    /// What a `started` event says is in force, as JSON text (its own bytes for each field).
    public var started: StartedFacts?
}

/// The fields of a `started` event that the fleet view shows.
public struct StartedFacts: Sendable {
    public var version: String?
    public var mode: String?
    /// `{"mechanisms":…,"controls":…,"not_enforced":…,"kernel":…}` built from the event's own bytes.
    public var facts: String
}

/// A field of one event that is not acceptable: the batch's answer names it.
public struct EventProblem: Error, Sendable, Equatable, Codable {
    public var index: Int
    public var field: String
    public var reason: String
}

/// Parses and checks a batch body.
public struct EventBatchParser: Sendable {
    public var limits: IngestLimits
    public init(limits: IngestLimits = IngestLimits()) { self.limits = limits }

    /// The well-formed events and the problems of the others (a malformed event never blocks the rest).
    /// - Throws: `EventProblem` with index -1 when the body as a whole is unusable.
    public func parse(_ body: [UInt8], groupID: String, receivedMs: Int64) throws(EventProblem) -> (events: [(index: Int, event: IncomingEvent)], problems: [EventProblem]) {
        var scanner = JSONScanner(body)
        let elements: [(value: JSONValue, range: Range<Int>)]
        do { elements = try scanner.topLevelArray() } catch {
            throw EventProblem(index: -1, field: "body", reason: error.description)
        }
        guard elements.count <= limits.maxEvents else {
            throw EventProblem(index: -1, field: "body", reason: "\(elements.count) events in one batch; at most \(limits.maxEvents)")
        }
        var events: [(Int, IncomingEvent)] = [], problems: [EventProblem] = []
        for (index, element) in elements.enumerated() {
            do {
                events.append((index, try event(element.value, raw: body[element.range], groupID: groupID, receivedMs: receivedMs)))
            } catch {
                problems.append(EventProblem(index: index, field: error.field, reason: error.reason))
            }
        }
        return (events, problems)
    }

    private struct FieldProblem: Error { var field: String; var reason: String }

    private func event(_ value: JSONValue, raw: ArraySlice<UInt8>, groupID: String, receivedMs: Int64) throws(FieldProblem) -> IncomingEvent {
        guard case .object(let members) = value else { throw FieldProblem(field: "event", reason: "an event must be a JSON object") }
        guard raw.count <= limits.maxEventBytes else {
            throw FieldProblem(field: "event", reason: "\(raw.count) bytes; an event may have at most \(limits.maxEventBytes)")
        }
        func text(_ key: String, max: Int, pattern: ((UInt8) -> Bool)? = nil) throws(FieldProblem) -> String? {
            guard let member = members.member(key) else { return nil }
            if case .null = member.value { return nil }
            guard case .string(let s) = member.value else { throw FieldProblem(field: key, reason: "must be a string") }
            guard s.utf8.count <= max else { throw FieldProblem(field: key, reason: "longer than \(max) bytes") }
            if let pattern, !s.utf8.allSatisfy(pattern) { throw FieldProblem(field: key, reason: "has characters not allowed here") }
            return Self.columnSafe(s)
        }
        let word: (UInt8) -> Bool = { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
        let ident: (UInt8) -> Bool = { word($0) || ($0 >= 65 && $0 <= 90) || $0 == 46 || $0 == 58 || $0 == 36 }
        guard let action = try text("action", max: 32, pattern: word), !action.isEmpty else {
            throw FieldProblem(field: "action", reason: "is required (a lowercase word such as blocked, reported, started)")
        }
        var timeMs = receivedMs
        if let t = try text("time", max: 40) {
            guard let ms = Timestamps.parse(t) else { throw FieldProblem(field: "time", reason: "is not an RFC 3339 time") }
            timeMs = ms
        }
        let account = try text("account_id", max: 12, pattern: { $0 >= 48 && $0 <= 57 })
        if let account, account.utf8.count != 12 { throw FieldProblem(field: "account_id", reason: "must be 12 digits") }
        let instance = try text("instance_id", max: 128, pattern: ident)
        var seq: Int64?
        if let member = members.member("seq") {
            guard case .number(let n) = member.value, let v = Int64(n), v >= 0 else {
                throw FieldProblem(field: "seq", reason: "must be a non-negative integer")
            }
            seq = v
        }
        var search: [String] = []
        for key in ["executable", "target", "subject", "file", "detail", "reason", "function_name", "request_id", "syscall", "access"] {
            if let s = value[key]?.string { search.append(s) }
        }
        if case .array(let argv)? = value["argv"] {
            for a in argv { if let s = a.string { search.append(s) } }
        } else if let argv = value["argv"], argv != .null {
            throw FieldProblem(field: "argv", reason: "must be an array of strings")
        }
        let bodyText = String(decoding: raw, as: UTF8.self)
        let dedupKey: String
        if let instance, let seq {
            dedupKey = "i:\(instance):\(seq)"
        } else {
            // No ids (older enforcers, other senders): the event's members in key order, so the same
            // event serialised with its keys in another order is still one event.
            var canonical = Data((groupID + "\n").utf8)
            for member in members.sorted(by: { $0.key < $1.key }) {
                canonical.append(contentsOf: member.key.utf8)
                canonical.append(0)
                canonical.append(contentsOf: raw[member.range])
                canonical.append(0)
            }
            dedupKey = "h:" + SHA256.hash(data: canonical).hexString
        }
        var started: StartedFacts?
        if action == "started" {
            // The sender's own bytes for each field: the parse above proved each is valid JSON.
            let facts = members.filter { Self.startedFacts.contains($0.key) }
                .map { "\"\($0.key)\":" + String(decoding: raw[$0.range], as: UTF8.self) }
            started = StartedFacts(version: try text("version", max: 64), mode: try text("mode", max: 16, pattern: word),
                                   facts: "{" + facts.joined(separator: ",") + "}")
        }
        return IncomingEvent(
            body: bodyText, action: action, timeMs: timeMs,
            reason: try text("reason", max: 64, pattern: word), mode: try text("mode", max: 16, pattern: word),
            functionName: try text("function_name", max: 256), accountID: account,
            region: try text("region", max: 32, pattern: word), requestID: try text("request_id", max: 128),
            instanceID: instance, seq: seq, executable: try text("executable", max: 4096),
            search: Self.columnSafe(search.joined(separator: "\n").lowercased()), dedupKey: dedupKey, started: started)
    }

    /// What a `started` event tells the fleet view (fixed names: safe to write as JSON keys).
    static let startedFacts: Set<String> = ["mechanisms", "controls", "not_enforced", "kernel", "runtime_relay", "simulated_missing"]

    /// Text for an indexed column: NUL (which PostgreSQL's text refuses) becomes U+FFFD.
    static func columnSafe(_ s: String) -> String {
        let nul = s.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        }
            ?? s.utf8.contains(0)
        return nul ? s.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : s
    }
}
