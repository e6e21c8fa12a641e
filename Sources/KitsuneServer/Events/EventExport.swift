/// The formats of `GET /api/v1/events/export`: one line per event.
public enum EventExportFormat: String, Sendable, CaseIterable {
    /// The stored events verbatim, one JSON object per line.
    case jsonl
    /// Spreadsheet columns. Cells an attacker controls that start with `=`, `+`, `-`, `@`, tab or CR
    /// are prefixed with `'` so a spreadsheet never evaluates them as formulas.
    case csv
    /// OCSF 1.3 Process Activity (class 1007), one object per line.
    case ocsf

    public var contentType: String {
        switch self {
        case .jsonl: return "application/x-ndjson"
        case .csv: return "text/csv; charset=utf-8"
        case .ocsf: return "application/x-ndjson"
        }
    }

    public var fileExtension: String { self == .csv ? "csv" : "jsonl" }

    static let csvColumns = ["time", "action", "reason", "mode", "function_name", "account_id", "region", "request_id",
                             "executable", "argv", "pid", "ppid", "sha256", "detail"]

    /// The first line, when the format has one.
    public var header: String? { self == .csv ? Self.csvColumns.joined(separator: ",") + "\r\n" : nil }

    /// One event's line, newline-terminated.
    public func line(_ event: StoredEvent) -> String {
        switch self {
        case .jsonl: return event.body + "\n"
        case .csv: return csvLine(event)
        case .ocsf: return ocsfLine(event)
        }
    }

    private func fields(_ event: StoredEvent) -> JSONValue {
        var scanner = JSONScanner(Array(event.body.utf8))
        return (try? scanner.document()) ?? .object([])
    }

    private static func text(_ v: JSONValue?) -> String? {
        switch v {
        case .string(let s)?: return s
        case .number(let n)?: return n
        case .bool(let b)?: return b ? "true" : "false"
        default: return nil
        }
    }

    private static func argv(_ v: JSONValue?) -> [String] {
        guard case .array(let items)? = v else { return [] }
        return items.compactMap(\.string)
    }

    private func csvLine(_ event: StoredEvent) -> String {
        let f = fields(event)
        let cells = Self.csvColumns.map { column -> String in
            if column == "time" { return Timestamps.format(event.timeMs) }
            if column == "argv" { return Self.argv(f["argv"]).joined(separator: " ") }
            return Self.text(f[column]) ?? ""
        }
        return cells.map(Self.csvCell).joined(separator: ",") + "\r\n"
    }

    /// RFC 4180 quoting, and formula neutralisation (OWASP's CSV injection advice).
    static func csvCell(_ s: String) -> String {
        var cell = s
        if let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { cell = "'" + cell }
        if cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return cell
    }

    private func ocsfLine(_ event: StoredEvent) -> String {
        let f = fields(event)
        let action = Self.text(f["action"]) ?? ""
        let reason = Self.text(f["reason"])
        let blocked = action == "blocked"
        let severity = reason == "honeypot" ? 5 : blocked ? 4 : action == "reported" ? 3 : 1
        let hasProcess = f["executable"] != nil
        var w = JSONWriter()
        w.beginObject()
        w.field("class_uid", 1007)
        w.field("class_name", "Process Activity")
        w.field("category_uid", 1)
        w.field("category_name", "System Activity")
        w.field("activity_id", hasProcess ? 1 : 99)
        w.field("activity_name", hasProcess ? "Launch" : "Other")
        w.field("type_uid", hasProcess ? 100701 : 100799)
        w.field("time", event.timeMs)
        w.field("severity_id", severity)
        w.field("severity", ["", "Informational", "Low", "Medium", "High", "Critical"][severity])
        w.field("action_id", blocked ? 2 : action == "reported" ? 1 : 0)
        w.field("action", blocked ? "Denied" : action == "reported" ? "Allowed" : "Unknown")
        w.field("disposition_id", blocked ? 2 : action == "reported" ? 15 : 0)
        w.field("disposition", blocked ? "Blocked" : action == "reported" ? "Detected" : "Unknown")
        w.field("message", [action, reason, Self.text(f["detail"])].compactMap { $0 }.joined(separator: ": "))
        if hasProcess {
            w.key("process")
            w.beginObject()
            if let pid = Self.text(f["pid"]), let n = Int64(pid) { w.field("pid", n) }
            w.field("cmd_line", Self.argv(f["argv"]).joined(separator: " "))
            w.key("file")
            w.beginObject()
            w.field("path", Self.text(f["executable"]))
            if let sha = Self.text(f["sha256"]) {
                w.key("hashes"); w.beginArray(); w.beginObject(); w.field("algorithm_id", 3); w.field("algorithm", "SHA-256"); w.field("value", sha); w.endObject(); w.endArray()
            }
            w.endObject()
            if let ppid = Self.text(f["ppid"]), let n = Int64(ppid) { w.key("parent_process"); w.beginObject(); w.field("pid", n); w.endObject() }
            w.endObject()
        }
        w.key("cloud")
        w.beginObject()
        w.field("provider", "AWS")
        if let region = Self.text(f["region"]) { w.field("region", region) }
        if let account = Self.text(f["account_id"]) { w.key("account"); w.beginObject(); w.field("uid", account); w.endObject() }
        w.endObject()
        w.key("metadata")
        w.beginObject()
        w.field("version", "1.3.0")
        w.key("product"); w.beginObject(); w.field("name", "Kitsune"); w.field("vendor_name", "Kitsune"); w.endObject()
        if let request = Self.text(f["request_id"]) { w.field("correlation_uid", request) }
        w.endObject()
        w.field("unmapped", raw: event.body)
        w.endObject()
        return w.text + "\n"
    }
}
