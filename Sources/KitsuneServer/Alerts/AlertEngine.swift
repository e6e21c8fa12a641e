import Foundation
import Logging

/// Alert evaluation and delivery, run as a background job on the lease holder only (so one replica
/// sends). Decoupled from ingest: the evaluator tails the events table by id with a cursor kept in
/// the store, re-reading the last `lagIDs` ids at each pass because PostgreSQL can make an id
/// visible after a higher one; the ids already evaluated are marked, in the same transaction as the
/// outbox rows and the cursor, so nothing is missed or alerted twice.
public struct AlertEngine: Sendable {
    public let settings: AlertSettings
    public let table: SeverityTable
    public let sender: any AlertSender
    let metrics: ServerMetrics?
    let logger: Logger

    public init(settings: AlertSettings, table: SeverityTable, sender: any AlertSender = HTTPAlertSender(),
                metrics: ServerMetrics? = nil, logger: Logger = Logger(label: "kitsune.alerts")) {
        self.settings = settings
        self.table = table
        self.sender = sender
        self.metrics = metrics
        self.logger = logger
    }

    /// The background job: evaluation passes until the backlog is read (at most 10 batches a tick),
    /// then a delivery pass, which runs even when evaluation failed.
    public func job() -> (name: String, run: BackgroundJobs.Job) {
        ("alerts", { store in
            var evaluationError: (any Error)?
            do {
                for _ in 0..<10 {
                    if try await evaluate(store) < settings.batch { break }
                }
            } catch { evaluationError = error }
            _ = try await deliver(store)
            if let evaluationError { throw evaluationError }
        })
    }

    /// One evaluation pass; returns how many events it evaluated.
    @discardableResult
    public func evaluate(_ store: ServerStore, nowMs: Int64 = Timestamps.nowMs()) async throws -> Int {
        guard let cursor = try await store.alertCursor() else {
            try await store.startAlertCursor(after: try await store.newestEventID())
            return 0
        }
        let from = max(cursor.start, cursor.last - settings.lagIDs)
        let events = try await store.eventsToEvaluate(fromID: from, limit: settings.batch)
        guard let newest = events.map(\.id).max(), let oldestReceived = events.map(\.receivedMs).min() else { return 0 }
        let destinations = try await store.listDestinations().filter(\.enabled)
        var throttler = AlertThrottler(windowMs: settings.throttleWindowMs, open: try await store.openAlerts(windowEndAfter: oldestReceived))
        var undeliverable: [Int64] = []
        for event in events {
            let severity = table.severity(reason: event.reason)
            let honeypot = AlertEvent.isHoneypot(reason: event.reason)
            if honeypot && destinations.isEmpty { undeliverable.append(event.id) }
            for d in destinations where honeypot || d.match.matches(event, severity: severity, table: table) {
                throttler.add(event, destinationID: d.id, severity: severity, nowMs: nowMs)
            }
        }
        if let first = undeliverable.min(), let last = undeliverable.max() {
            // One line a pass, not one an event: a burst of honeypot events (an attacker's loop) must
            // not flood the log.
            metrics?.add("kitsune_alerts_undeliverable_total", undeliverable.count)
            logger.error("honeypot use with no alert destination configured",
                         metadata: ["events": "\(undeliverable.count)", "first_event_id": "\(first)", "last_event_id": "\(last)"])
        }
        let changes = throttler.changes
        let cursorNow = max(cursor.last, newest)
        try await store.commitEvaluation(events: events.map(\.id), changes: changes, cursor: cursorNow, forgetBelow: cursorNow - settings.lagIDs)
        metrics?.add("kitsune_alerts_created_total", changes.filter { if case .insert = $0 { return true }; return false }.count)
        return events.count
    }

    /// One delivery pass over the due alerts (a few at a time); returns how many were delivered.
    @discardableResult
    public func deliver(_ store: ServerStore, nowMs: Int64 = Timestamps.nowMs()) async throws -> Int {
        let due = try await store.dueAlerts(nowMs: nowMs, limit: settings.deliveriesPerPass)
        guard !due.isEmpty else { return 0 }
        var destinations: [String: AlertDestination] = [:]
        for d in try await store.listDestinations() { destinations[d.id] = d }
        let sender = self.sender
        var delivered = 0
        var index = 0
        while index < due.count {
            let slice = due[index..<min(index + 8, due.count)]
            index += slice.count
            let results = await withTaskGroup(of: (Alert, DeliveryResult)?.self) { group in
                for alert in slice {
                    guard let d = destinations[alert.destinationID] else { continue }
                    group.addTask { (alert, await sender.deliver(alert, to: d, test: false)) }
                }
                var out: [(Alert, DeliveryResult)] = []
                for await r in group { if let r { out.append(r) } }
                return out
            }
            for (alert, result) in results {
                let state = try await store.recordDelivery(alert.id, result: result, settings: settings)
                switch state {
                case .delivered: delivered += 1; metrics?.add("kitsune_alerts_delivered_total", 1)
                case .dead:
                    metrics?.add("kitsune_alerts_dead_total", 1)
                    logger.warning("alert gave up", metadata: ["alert": "\(alert.id)", "destination": "\(alert.destinationID)", "error": "\(result.detail)"])
                case .pending: metrics?.add("kitsune_alerts_retries_total", 1)
                }
            }
        }
        return delivered
    }

    /// Sends a test alert to `destination` now (not through the outbox) and says what happened.
    public func sendTest(to destination: AlertDestination) async -> (alert: Alert, result: DeliveryResult) {
        let now = Timestamps.nowMs()
        let event = AlertEvent(id: 0, receivedMs: now, timeMs: now, action: "test", reason: "test", mode: "audit",
                               functionName: "kitsune-test-alert", executable: "/bin/true", argv: ["/bin/true"])
        let alert = Alert(id: "alr_test_" + randomHex(bytes: 8), destinationID: destination.id, throttleKey: "", groupKey: "", followUp: false,
                          windowEndMs: now, firstEventID: 0, lastEventID: 0, count: 1, severity: table.levels.first ?? "low",
                          event: event, createdMs: now, nextAttemptMs: now)
        return (alert, await sender.deliver(alert, to: destination, test: true))
    }
}
