import Foundation
import KitsuneAWS

extension ControlPlane {
    /// The alert engine over this plane's store, with the bundled severity table (its absence fails
    /// `application()` at start; see `SeverityTable.bundled`).
    var alertEngine: AlertEngine {
        let table = (try? SeverityTable.bundled.get()) ?? SeverityTable(levels: ["low", "medium", "high", "critical"], defaultLevel: "medium", byReason: [:])
        return AlertEngine(settings: configuration.alerts, table: table,
                           sender: HTTPAlertSender(transport: URLSessionTransport(timeout: configuration.alerts.timeoutSeconds)),
                           metrics: metrics, logger: logger)
    }
}
