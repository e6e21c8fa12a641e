import Foundation
import KitsuneAWS

/// How alerting behaves (`kitsune server` options; tests shorten the times).
public struct AlertSettings: Sendable {
    /// Events of one function and reason within this window become one alert with a count.
    public var throttleWindowMs: Int64 = 5 * 60_000
    /// Delivery attempts before an alert is `dead`.
    public var maxAttempts = 8
    /// Back-off: `retryBaseMs × 2^(attempt-1)`, at most `retryMaxMs`.
    public var retryBaseMs: Int64 = 5_000
    public var retryMaxMs: Int64 = 15 * 60_000
    /// Event ids below the cursor re-read at each pass (on PostgreSQL a concurrent commit can make an
    /// id visible after a higher one).
    public var lagIDs: Int64 = 1000
    /// Events evaluated, and alerts delivered, per pass.
    public var batch = 2000
    public var deliveriesPerPass = 100
    /// Seconds a receiver may take to answer.
    public var timeoutSeconds: TimeInterval = 10
    public init() {}

    /// When attempt number `attempts` (1-based, just failed) is retried.
    public func retryDelayMs(afterAttempt attempts: Int64) -> Int64 {
        let exponent = min(max(attempts - 1, 0), 30)
        return min(retryBaseMs << exponent, retryMaxMs)
    }
}

/// The outcome of one delivery attempt, as the outbox and the test endpoint report it.
public struct DeliveryResult: Sendable, Equatable {
    public var delivered: Bool
    /// The receiver's HTTP status (nil when none was received).
    public var status: Int?
    /// What went wrong, or the receiver's message id (SNS); never contains the destination's secret URL.
    public var detail: String
    /// False when retrying cannot help (a 4xx other than 408/429, a malformed destination).
    public var retryable: Bool
}

/// Sends an alert to a destination: the seam between the outbox and the network.
public protocol AlertSender: Sendable {
    func deliver(_ alert: Alert, to destination: AlertDestination, test: Bool) async -> DeliveryResult
}

/// The real sender: HTTP(S) POSTs (webhook, Slack) over a transport, SNS through the AWS client
/// stack (credential chain and `AWS_ENDPOINT_URL` as the CLI honours them).
public struct HTTPAlertSender: AlertSender {
    let transport: any HTTPTransport
    let aws: @Sendable () throws -> AWSClient

    public init(transport: any HTTPTransport = URLSessionTransport(timeout: 10),
                aws: @escaping @Sendable () throws -> AWSClient = { try AWSClient.fromEnvironment(defaultRegion: "us-east-1") }) {
        self.transport = transport
        self.aws = aws
    }

    public func deliver(_ alert: Alert, to destination: AlertDestination, test: Bool) async -> DeliveryResult {
        switch destination.kind {
        case .webhook:
            return await post(AlertFormat.json(alert, destinationName: destination.name, test: test), alert: alert, to: destination)
        case .slack:
            return await post(AlertFormat.slack(alert, destinationName: destination.name, test: test), alert: alert, to: destination)
        case .sns:
            do {
                let id = try await aws().sns.publish(topicARN: destination.target, message: AlertFormat.json(alert, destinationName: destination.name, test: test),
                                                     subject: AlertFormat.snsSubject(alert), attributes: [("kitsune_alert_id", alert.id)])
                return DeliveryResult(delivered: true, status: 200, detail: "message \(id)", retryable: false)
            } catch let error as AWSError {
                let permanent: Bool
                switch error {
                case .invalidInput, .notFound, .accessDenied: permanent = true
                case .service(_, let status, _, _): permanent = (400..<500).contains(status) && status != 408 && status != 429
                default: permanent = false
                }
                return DeliveryResult(delivered: false, status: nil, detail: String("\(error)".prefix(500)), retryable: !permanent)
            } catch {
                return DeliveryResult(delivered: false, status: nil, detail: String("\(error)".prefix(500)), retryable: true)
            }
        }
    }

    private func post(_ body: String, alert: Alert, to destination: AlertDestination) async -> DeliveryResult {
        guard let url = URL(string: destination.target) else {
            return DeliveryResult(delivered: false, status: nil, detail: "the destination URL does not parse", retryable: false)
        }
        let bytes = Array(body.utf8)
        var headers = [HTTPHeader("Content-Type", "application/json; charset=utf-8"), HTTPHeader("User-Agent", "kitsune-alerts/1"),
                       HTTPHeader("Kitsune-Alert-Id", alert.id)]
        if let secret = destination.secret, destination.kind == .webhook {
            headers.append(HTTPHeader("Kitsune-Signature", AlertFormat.signature(body: bytes, secret: secret, unixSeconds: Timestamps.nowMs() / 1000)))
        }
        do {
            let response = try await transport.send(HTTPRequest(method: "POST", url: url, headers: headers, body: bytes))
            if (200..<300).contains(response.status) {
                return DeliveryResult(delivered: true, status: response.status, detail: "HTTP \(response.status)", retryable: false)
            }
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
                .unicodeScalars.filter { $0.value >= 0x20 }.map(String.init).joined()
            let retryable = response.status >= 500 || response.status == 408 || response.status == 429
            return DeliveryResult(delivered: false, status: response.status, detail: redact("HTTP \(response.status): \(text)", destination), retryable: retryable)
        } catch {
            return DeliveryResult(delivered: false, status: nil, detail: redact(String("\(error)".prefix(300)), destination), retryable: true)
        }
    }

    /// Error texts from the network layer may quote the URL (and its token): never let it out.
    private func redact(_ text: String, _ destination: AlertDestination) -> String {
        var out = text.replacingOccurrences(of: destination.target, with: destination.targetHint)
        if let url = URL(string: destination.target), !url.path.isEmpty, url.path != "/" {
            out = out.replacingOccurrences(of: url.path, with: "/…")
        }
        return out
    }
}
