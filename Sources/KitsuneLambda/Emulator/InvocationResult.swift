import Foundation

/// The figures of Lambda's `REPORT` line for one invocation.
public struct InvocationReport: Sendable, Equatable {
    /// The invocation's request id.
    public var requestId: String
    /// Wall time of the invocation in milliseconds (runtime plus extensions' post-invoke work).
    public var durationMs: Double
    /// Duration rounded up to the next millisecond, like Lambda bills it.
    public var billedDurationMs: Int
    /// The configured memory size.
    public var memorySizeMB: Int
    /// Peak memory of the whole sandbox (runtime and extensions) so far, in MB.
    public var maxMemoryUsedMB: Int
    /// Present on the first invocation after a cold start.
    public var initDurationMs: Double?
    /// `timeout` or `error` (absent when the runtime answered, even with a function error).
    public var status: String?
    /// With `status: error`: the error type (e.g. `Runtime.ExitError`).
    public var errorType: String?

    /// Creates a report.
    public init(requestId: String, durationMs: Double, billedDurationMs: Int, memorySizeMB: Int, maxMemoryUsedMB: Int,
                initDurationMs: Double? = nil, status: String? = nil, errorType: String? = nil) {
        self.requestId = requestId
        self.durationMs = durationMs
        self.billedDurationMs = billedDurationMs
        self.memorySizeMB = memorySizeMB
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.initDurationMs = initDurationMs
        self.status = status
        self.errorType = errorType
    }

    /// The line as Lambda writes it to CloudWatch Logs.
    public var line: String {
        var s = "REPORT RequestId: \(requestId)\tDuration: \(Self.ms(durationMs)) ms\tBilled Duration: \(billedDurationMs) ms"
            + "\tMemory Size: \(memorySizeMB) MB\tMax Memory Used: \(maxMemoryUsedMB) MB"
        if let initDurationMs { s += "\tInit Duration: \(Self.ms(initDurationMs)) ms" }
        if let status { s += "\tStatus: \(status)" }
        if let errorType { s += "\tError Type: \(errorType)" }
        return s
    }

    /// Parses a `REPORT` line (Lambda's or ours); `nil` when it is not one.
    public static func parse(_ line: String) -> InvocationReport? {
        guard line.hasPrefix("REPORT ") else { return nil }
        var fields: [String: String] = [:]
        for part in line.dropFirst(7).components(separatedBy: "\t") {
            guard let colon = part.range(of: ": ") else { continue }
            fields[part[..<colon.lowerBound].trimmingCharacters(in: .whitespaces)] =
                part[colon.upperBound...].trimmingCharacters(in: .whitespaces)
        }
        func number(_ key: String, unit: String) -> Double? {
            guard let v = fields[key], v.hasSuffix(" " + unit) else { return nil }
            return Double(v.dropLast(unit.count + 1))
        }
        guard let id = fields["RequestId"], let duration = number("Duration", unit: "ms"),
              let billed = number("Billed Duration", unit: "ms"), let size = number("Memory Size", unit: "MB"),
              let used = number("Max Memory Used", unit: "MB") else { return nil }
        return InvocationReport(requestId: id, durationMs: duration, billedDurationMs: Int(billed), memorySizeMB: Int(size),
                                maxMemoryUsedMB: Int(used), initDurationMs: number("Init Duration", unit: "ms"),
                                status: fields["Status"], errorType: fields["Error Type"])
    }

    static func ms(_ value: Double) -> String { String(format: "%.2f", value) }
}

/// The outcome of one invocation, as a caller of Lambda's Invoke API would see it, plus the logs.
public struct InvocationResult: Sendable {
    /// How the invocation ended.
    public enum Status: String, Sendable {
        /// The runtime posted a response.
        case success
        /// The runtime posted an error (`/error`): Lambda's `X-Amz-Function-Error: Unhandled`.
        case functionError
        /// The runtime or an extension failed (init error, crash): REPORT `Status: error`.
        case error
        /// The function did not answer within its timeout: REPORT `Status: timeout`.
        case timeout
    }

    /// The invocation's request id (as the runtime saw it).
    public var requestId: String
    /// How it ended.
    public var status: Status
    /// The response payload (the function's result, or Lambda's error document).
    public var payload: Data
    /// `errorType` of the error document, when there is one.
    public var errorType: String?
    /// The REPORT figures.
    public var report: InvocationReport
    /// What the function and extensions printed during this invocation (init output on the first).
    public var logs: String
    /// With `measureProcessTreeRSS`: the sum of `VmHWM` over the sandbox's live processes at the
    /// end of the invocation (counts shared file pages, unlike the cgroup figure in the REPORT).
    public var processTreePeakRSSBytes: UInt64?

    /// The payload as text.
    public var payloadText: String { String(decoding: payload, as: UTF8.self) }
}

/// What the sandbox's shutdown produced.
public struct ShutdownResult: Sendable {
    /// Names of extensions that received a SHUTDOWN event.
    public var extensionsNotified: [String]
    /// Output printed during shutdown.
    public var logs: String
    /// Processes that could not be killed (should be empty).
    public var leakedProcesses: [Int32]
}
