import Foundation
import Synchronization

/// A token bucket per key (a token id): `rate` requests a second on average, bursts up to `burst`.
/// Per server process; with several replicas each enforces its own share.
public final class RateLimiter: Sendable {
    private struct Bucket { var tokens: Double; var updated: Double }
    public let rate: Double
    public let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    /// `rate` 0 turns limiting off.
    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(burst, 1)
    }

    /// Takes one request from `key`'s bucket: nil when allowed, else the seconds to wait.
    public func take(_ key: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        guard rate > 0 else { return nil }
        return buckets.withLock { buckets in
            var b = buckets[key] ?? Bucket(tokens: burst, updated: now)
            b.tokens = min(burst, b.tokens + (now - b.updated) * rate)
            b.updated = now
            defer {
                buckets[key] = b
                if buckets.count > 100_000 { buckets = buckets.filter { now - $0.value.updated < 60 } }
            }
            if b.tokens >= 1 { b.tokens -= 1; return nil }
            return max(1, Int(((1 - b.tokens) / rate).rounded(.up)))
        }
    }
}
