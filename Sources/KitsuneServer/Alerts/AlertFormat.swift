import Crypto
import Foundation

/// The bytes an alert is delivered as. Everything taken from events (argv, paths, names) is
/// attacker-controlled: it is bounded (``AlertEvent/bounded(_:)``), JSON-escaped by ``JSONWriter``,
/// and for Slack also escaped for mrkdwn, so a `<!channel>` or `<http://evil|click>` in argv is
/// shown as text, never as a mention or a link.
public enum AlertFormat {
    /// The generic JSON document (webhook body, SNS message).
    public static func json(_ alert: Alert, destinationName: String, test: Bool = false) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("type", test ? "kitsune.alert.test" : "kitsune.alert")
        w.field("id", alert.id)
        w.field("severity", alert.severity)
        w.field("count", alert.count)
        w.field("follow_up", alert.followUp)
        w.field("first_event_id", alert.firstEventID)
        w.field("last_event_id", alert.lastEventID)
        w.field("window_end", Timestamps.format(alert.windowEndMs))
        w.field("created", Timestamps.format(alert.createdMs))
        w.field("destination", destinationName)
        w.field("text", summary(alert))
        w.key("event")
        event(alert.event, into: &w)
        w.endObject()
        return w.text
    }

    /// The event fields carried in an alert (bounded).
    public static func event(_ e: AlertEvent, into w: inout JSONWriter) {
        w.beginObject()
        w.field("id", e.id)
        w.field("time", Timestamps.format(e.timeMs))
        w.field("received", Timestamps.format(e.receivedMs))
        w.field("action", AlertEvent.bounded(e.action))
        w.field("reason", AlertEvent.bounded(e.reason))
        w.field("mode", AlertEvent.bounded(e.mode))
        w.field("function_name", AlertEvent.bounded(e.functionName))
        w.field("account_id", AlertEvent.bounded(e.accountID))
        w.field("region", AlertEvent.bounded(e.region))
        w.field("executable", AlertEvent.bounded(e.executable))
        w.field("argv", strings: e.argv)
        w.endObject()
    }

    /// One line saying what happened (plain text; escape it for the medium).
    public static func summary(_ alert: Alert) -> String {
        let e = alert.event
        var s = "[\(alert.severity)] \(e.reason ?? "event") \(e.action) in \(e.functionName ?? "an unnamed function")"
        if let a = e.accountID { s += " (\(a)\(e.region.map { "/" + $0 } ?? ""))" }
        if let x = e.executable { s += ": \(x)" }
        if alert.followUp { s += " — \(alert.count) more in this window" } else if alert.count > 1 { s += " (×\(alert.count))" }
        return String(s.prefix(600))
    }

    /// Slack's mrkdwn escaping: `&`, `<`, `>` (what makes links, mentions and `<!channel>`).
    public static func slackEscape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Text for inside a Slack code span: escaped, backticks replaced (they would end the span),
    /// newlines flattened.
    static func slackCode(_ s: String) -> String {
        slackEscape(s).replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    /// A Slack incoming-webhook body: `text` (notifications) and `blocks`.
    public static func slack(_ alert: Alert, destinationName: String, test: Bool = false) -> String {
        let e = alert.event
        let title = (test ? "Test alert: " : "") + summary(alert)
        var lines = ["*\(slackEscape(title))*"]
        lines.append("*Function:* `\(slackCode(e.functionName ?? "-"))`  *Account:* `\(slackCode(e.accountID ?? "-"))`  *Region:* `\(slackCode(e.region ?? "-"))`")
        lines.append("*Action:* `\(slackCode(e.action))`  *Reason:* `\(slackCode(e.reason ?? "-"))`  *Mode:* `\(slackCode(e.mode ?? "-"))`")
        if !e.argv.isEmpty { lines.append("*argv:* `\(slackCode(e.argv.joined(separator: " ")))`") }
        var section = lines.joined(separator: "\n")
        if section.count > 2900 { section = String(section.prefix(2900)) + "…" }
        var w = JSONWriter()
        w.beginObject()
        w.field("text", slackEscape(title))
        w.key("blocks"); w.beginArray()
        w.beginObject(); w.field("type", "section")
        w.key("text"); w.beginObject(); w.field("type", "mrkdwn"); w.field("text", section); w.endObject()
        w.endObject()
        w.beginObject(); w.field("type", "context")
        w.key("elements"); w.beginArray()
        w.beginObject(); w.field("type", "mrkdwn")
        w.field("text", slackEscape("Kitsune alert \(alert.id) · \(alert.count) event(s) · first event \(alert.firstEventID) · \(destinationName)"))
        w.endObject()
        w.endArray(); w.endObject()
        w.endArray()
        w.endObject()
        return w.text
    }

    /// An SNS subject: printable ASCII, at most 100 characters.
    public static func snsSubject(_ alert: Alert) -> String {
        let e = alert.event
        let raw = "Kitsune \(alert.severity): \(e.reason ?? "event") \(e.action) in \(e.functionName ?? "-")"
        let ascii = String(raw.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return String(ascii.prefix(100))
    }

    /// `Kitsune-Signature` for a signed webhook: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
    /// with the destination's shared secret (the timestamp lets receivers refuse replays).
    public static func signature(body: [UInt8], secret: String, unixSeconds: Int64) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(unixSeconds).".utf8) + Data(body), using: key)
        return "t=\(unixSeconds),v1=" + mac.hexString
    }
}
