import Foundation

extension AlertMatch {
    /// The members a `match` object may have.
    public static let members: Set<String> = ["reasons", "actions", "min_severity", "functions", "accounts"]

    /// Reads a `match` object strictly: an unknown member, a wrong type, an unknown severity, an
    /// account that is not 12 digits is an error naming `field.member`.
    public static func parse(_ value: JSONValue?, field: String = "match", table: SeverityTable) throws(ParameterError) -> AlertMatch {
        var match = AlertMatch()
        guard let value, value != .null else { return match }
        guard case .object(let list) = value else { throw ParameterError(parameter: field, reason: "must be an object with \(members.sorted().joined(separator: ", "))") }
        for member in list {
            let name = "\(field).\(member.key.prefix(64))"
            guard members.contains(member.key) else {
                throw ParameterError(parameter: name, reason: "unknown member (allowed: \(members.sorted().joined(separator: ", ")))")
            }
            if member.key == "min_severity" {
                guard let s = member.value.string, table.rank(s) != nil else {
                    throw ParameterError(parameter: name, reason: "must be one of \(table.levels.joined(separator: ", "))")
                }
                match.minSeverity = s
                continue
            }
            guard case .array(let items) = member.value, items.count <= 100 else { throw ParameterError(parameter: name, reason: "must be an array of at most 100 strings") }
            var strings: [String] = []
            for (i, item) in items.enumerated() {
                guard let s = item.string, !s.isEmpty, s.utf8.count <= 256 else { throw ParameterError(parameter: "\(name)[\(i)]", reason: "must be a string of 1 to 256 bytes") }
                if member.key == "accounts", s.utf8.count != 12 || !s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                    throw ParameterError(parameter: "\(name)[\(i)]", reason: "must be 12 digits")
                }
                strings.append(s)
            }
            switch member.key {
            case "reasons": match.reasons = strings
            case "actions": match.actions = strings
            case "functions": match.functions = strings
            default: match.accounts = strings
            }
        }
        return match
    }

    /// As JSON (stored, and shown by the API).
    public func write(into w: inout JSONWriter) {
        w.beginObject()
        w.field("reasons", strings: reasons)
        w.field("actions", strings: actions)
        w.field("min_severity", minSeverity)
        w.field("functions", strings: functions)
        w.field("accounts", strings: accounts)
        w.endObject()
    }

    /// The stored JSON text back (lenient: the store only holds what `parse` accepted).
    public static func stored(_ text: String) -> AlertMatch {
        var scanner = JSONScanner(Array(text.utf8), maxDepth: 4)
        guard let doc = try? scanner.document() else { return AlertMatch() }
        func list(_ k: String) -> [String] {
            if case .array(let items)? = doc[k] { return items.compactMap(\.string) }
            return []
        }
        var m = AlertMatch()
        m.reasons = list("reasons"); m.actions = list("actions"); m.functions = list("functions"); m.accounts = list("accounts")
        m.minSeverity = doc["min_severity"]?.string
        return m
    }
}

extension AlertDestination {
    /// Checks a destination's target for its kind; the error names `target` but never quotes it
    /// (it may hold a token).
    public static func checkTarget(_ target: String, kind: AlertDestinationKind) throws(ParameterError) {
        guard target.utf8.count <= 2048, !target.unicodeScalars.contains(where: { $0.value < 0x21 }) else {
            throw ParameterError(parameter: "target", reason: "must be at most 2048 bytes without spaces or control characters")
        }
        switch kind {
        case .webhook, .slack:
            guard let url = URL(string: target), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
                  let host = url.host, !host.isEmpty else {
                throw ParameterError(parameter: "target", reason: "must be an http:// or https:// URL")
            }
            guard url.user == nil && url.password == nil else { throw ParameterError(parameter: "target", reason: "must not carry user:password@") }
        case .sns:
            let parts = target.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 6, parts[0] == "arn", parts[2] == "sns", !parts[3].isEmpty,
                  parts[4].utf8.count == 12, parts[4].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), !parts[5].isEmpty else {
                throw ParameterError(parameter: "target", reason: "must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
            }
        }
    }
}

extension Alert {
    /// The stored event detail: the fields not kept in their own columns.
    var detailJSON: String {
        var w = JSONWriter()
        w.beginObject()
        w.field("time_ms", event.timeMs)
        w.field("received_ms", event.receivedMs)
        w.field("mode", AlertEvent.bounded(event.mode))
        w.field("executable", AlertEvent.bounded(event.executable))
        w.field("argv", strings: event.argv)
        w.endObject()
        return w.text
    }
}
