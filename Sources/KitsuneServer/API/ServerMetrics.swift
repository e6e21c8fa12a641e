import Synchronization

/// The server's counters and the ingest latency histogram, in Prometheus' text format (`/metrics`).
public final class ServerMetrics: Sendable {
    private struct State {
        var requests: [String: Int64] = [:]
        var counters: [String: Int64] = [:]
        var latencyBuckets = [Int64](repeating: 0, count: ServerMetrics.bounds.count)
        var latencyCount: Int64 = 0
        var latencySum = 0.0
    }
    /// The counters `/metrics` shows from the start.
    static let counters = ["kitsune_events_accepted_total", "kitsune_events_duplicate_total", "kitsune_events_rejected_total",
                           "kitsune_store_unavailable_total", "kitsune_events_pruned_total", "kitsune_ingest_commits_total",
                           "kitsune_ingest_commit_batches_total", "kitsune_ingest_commit_microseconds_total", "kitsune_search_indexed_total",
                           "kitsune_search_pending_pages_merged_total", "kitsune_planner_statistics_refreshed_total",
                           "kitsune_alerts_created_total", "kitsune_alerts_delivered_total", "kitsune_alerts_retries_total",
                           "kitsune_alerts_dead_total", "kitsune_alerts_undeliverable_total"]
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    private let state = Mutex(State())

    public init() {}

    /// One HTTP answer, by route pattern (never the raw path: ids would explode the series).
    public func request(route: String, method: String, status: Int) {
        state.withLock { $0.requests["method=\"\(method)\",route=\"\(route)\",status=\"\(status)\"", default: 0] += 1 }
    }

    /// Adds `n` to counter `name` (`kitsune_events_accepted_total`, …).
    public func add(_ name: String, _ n: Int) {
        guard n != 0 else { return }
        state.withLock { $0.counters[name, default: 0] += Int64(n) }
    }

    /// Seconds one ingest batch took, from its arrival to its durable acknowledgement.
    public func observeIngest(seconds: Double) {
        state.withLock { s in
            for (i, bound) in Self.bounds.enumerated() where seconds <= bound { s.latencyBuckets[i] += 1 }
            s.latencyCount += 1
            s.latencySum += seconds
        }
    }

    /// The exposition text.
    public func render() -> String {
        let s = state.withLock { $0 }
        var out = "# HELP kitsune_http_requests_total HTTP requests answered, by route and status.\n# TYPE kitsune_http_requests_total counter\n"
        for (labels, n) in s.requests.sorted(by: { $0.key < $1.key }) { out += "kitsune_http_requests_total{\(labels)} \(n)\n" }
        // The known counters, at 0 before their first event; then any other one added.
        let known = Self.counters
        for name in known + s.counters.keys.filter({ !known.contains($0) }).sorted() {
            out += "# TYPE \(name) counter\n\(name) \(s.counters[name] ?? 0)\n"
        }
        out += "# HELP kitsune_ingest_batch_seconds Time from a batch's arrival to its durable acknowledgement.\n# TYPE kitsune_ingest_batch_seconds histogram\n"
        for (i, bound) in Self.bounds.enumerated() { out += "kitsune_ingest_batch_seconds_bucket{le=\"\(bound)\"} \(s.latencyBuckets[i])\n" }
        out += "kitsune_ingest_batch_seconds_bucket{le=\"+Inf\"} \(s.latencyCount)\n"
        out += "kitsune_ingest_batch_seconds_sum \(s.latencySum)\nkitsune_ingest_batch_seconds_count \(s.latencyCount)\n"
        return out
    }
}
