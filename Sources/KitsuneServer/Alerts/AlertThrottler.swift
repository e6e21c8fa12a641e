import Crypto
import Foundation

/// Throttling: the events of one destination, function, account, reason and action within a window
/// become one alert with a count. The first event of a window is alerted at once; events that come
/// while it is still waiting for delivery are folded into it; events that come after it was sent
/// (or attempted) are folded into one follow-up alert delivered when the window closes. Windows are
/// measured on the server's receive time, never on the sender's clock.
///
/// Pure: given the windows already open (from the store) and new events, it says which alerts to
/// insert and which counts to raise. Keys are deterministic (the first event's id), so evaluating
/// the same event twice collides on the store's unique key instead of alerting twice.
public struct AlertThrottler: Sendable {
    /// A change to the outbox.
    public enum Change: Sendable, Equatable {
        case insert(Alert)
        /// Raise `alertID`'s count by `by`, its last event becoming `lastEventID`.
        case add(alertID: String, by: Int64, lastEventID: Int64)
    }

    public let windowMs: Int64
    /// The newest primary alert and its follow-up for each group key.
    private var primary: [String: Alert] = [:]
    private var followUp: [String: Alert] = [:]
    private var inserted: [String: Alert] = [:]
    private var insertOrder: [String] = []
    private var added: [String: (by: Int64, last: Int64)] = [:]
    private var addOrder: [String] = []

    /// `open`: the store's alerts whose window has not closed (primary and follow-up).
    public init(windowMs: Int64, open: [Alert]) {
        self.windowMs = windowMs
        for alert in open.sorted(by: { $0.windowEndMs < $1.windowEndMs }) {
            if alert.followUp { followUp[alert.groupKey] = alert } else { primary[alert.groupKey] = alert }
        }
        // A follow-up belongs to the current primary only.
        for (key, f) in followUp where primary[key].map({ $0.windowEndMs != f.windowEndMs }) ?? true { followUp[key] = nil }
    }

    /// The key throttling groups by.
    public static func groupKey(destinationID: String, event: AlertEvent) -> String {
        let parts = [destinationID, event.functionName ?? "", event.accountID ?? "", event.reason ?? "", event.action]
        let digest = SHA256.hash(data: Data(parts.joined(separator: "\u{0}").utf8))
        return digest.hexString
    }

    /// Accounts for `event` going to `destinationID`.
    public mutating func add(_ event: AlertEvent, destinationID: String, severity: String, nowMs: Int64) {
        let key = Self.groupKey(destinationID: destinationID, event: event)
        if let p = primary[key], event.receivedMs < p.windowEndMs {
            if p.state == .pending && p.attempts == 0 {
                bump(p.id, key: key, follow: false, event: event)
            } else if let f = followUp[key] {
                bump(f.id, key: key, follow: true, event: event)
            } else {
                let f = makeAlert(key: key, throttleKey: p.throttleKey + "|follow-up", followUp: true, windowEndMs: p.windowEndMs,
                                  destinationID: destinationID, severity: severity, event: event, nowMs: nowMs, dueMs: p.windowEndMs)
                followUp[key] = f
                insert(f)
            }
            return
        }
        let p = makeAlert(key: key, throttleKey: "\(key)|\(event.id)", followUp: false, windowEndMs: event.receivedMs + windowMs,
                          destinationID: destinationID, severity: severity, event: event, nowMs: nowMs, dueMs: nowMs)
        primary[key] = p
        followUp[key] = nil
        insert(p)
    }

    /// The changes, in the order they arose.
    public var changes: [Change] {
        insertOrder.compactMap { inserted[$0].map(Change.insert) }
            + addOrder.compactMap { id in added[id].map { .add(alertID: id, by: $0.by, lastEventID: $0.last) } }
    }

    private func makeAlert(key: String, throttleKey: String, followUp: Bool, windowEndMs: Int64, destinationID: String,
                           severity: String, event: AlertEvent, nowMs: Int64, dueMs: Int64) -> Alert {
        Alert(id: "alr_" + randomHex(bytes: 10), destinationID: destinationID, throttleKey: throttleKey, groupKey: key,
              followUp: followUp, windowEndMs: windowEndMs, firstEventID: event.id, lastEventID: event.id, count: 1,
              severity: severity, event: event, createdMs: nowMs, nextAttemptMs: dueMs)
    }

    private mutating func insert(_ alert: Alert) {
        inserted[alert.id] = alert
        insertOrder.append(alert.id)
    }

    private mutating func bump(_ id: String, key: String, follow: Bool, event: AlertEvent) {
        if var a = inserted[id] {
            a.count += 1
            a.lastEventID = max(a.lastEventID, event.id)
            inserted[id] = a
        } else {
            if added[id] == nil { addOrder.append(id) }
            let old = added[id] ?? (0, 0)
            added[id] = (old.by + 1, max(old.last, event.id))
        }
        if follow { followUp[key]?.count += 1 } else { primary[key]?.count += 1 }
    }
}
