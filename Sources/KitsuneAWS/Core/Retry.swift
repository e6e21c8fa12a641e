import Foundation

/// Bounded retries with exponential backoff and full jitter
/// (delay = random(0, min(maxDelay, baseDelay · 2^attempt))), as in AWS's "standard" retry mode.
public struct RetryPolicy: Sendable {
    /// Total attempts including the first (≥ 1).
    public var maxAttempts: Int
    /// Base delay in seconds.
    public var baseDelay: Double
    /// Cap of one delay in seconds.
    public var maxDelay: Double
    /// Uniform random number in [0, 1) (pinned in tests).
    public var random: @Sendable () -> Double
    /// Sleeps for the given seconds (replaceable in tests).
    public var sleep: @Sendable (Double) async -> Void

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.2, maxDelay: Double = 20,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                sleep: @escaping @Sendable (Double) async -> Void = { seconds in
                    try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
                }) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.random = random
        self.sleep = sleep
    }

    /// The delay before retry number `attempt` (0-based: the delay after the first failure is attempt 0).
    public func delay(afterAttempt attempt: Int) -> Double {
        let exponent = min(attempt, 30)
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(exponent)))
        return random() * ceiling
    }
}
