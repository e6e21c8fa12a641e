import Foundation

/// One Lambda runtime and its deprecation schedule.
public struct LambdaRuntime: Codable, Hashable, Sendable {
    /// Runtime identifier as used in the Lambda API (`python3.12`).
    public var id: String
    public var name: String
    /// Deprecation date (`yyyy-MM-dd`, UTC): end of security patches.
    public var deprecation: String
    public var blockCreate: String?
    public var blockUpdate: String?
}

/// The verdict for one runtime identifier on one day.
public enum RuntimeStatus: Equatable, Sendable {
    /// Supported; `daysLeft` until the deprecation date.
    case supported(LambdaRuntime, daysLeft: Int)
    /// Deprecated since the runtime's deprecation date.
    case deprecated(LambdaRuntime)
    /// Not in the table (a runtime newer than the table, a typo, or a container image): cannot say.
    case unknown(String)
}

/// The dated table of Lambda runtimes (`Data/lambda-runtimes.json`), with its source page and the date
/// it was compiled. "Deprecated" is always relative to the date passed in, never to the compile date.
public struct RuntimeTable: Sendable {
    public var source: String
    public var compiled: String
    public var runtimes: [LambdaRuntime]

    private struct File: Codable {
        var source: String
        var compiled: String
        var runtimes: [LambdaRuntime]
    }

    /// Parses the table from JSON; `source` names the input in errors.
    public init(json: Data, source name: String) throws {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: json) } catch {
            throw PostureDataError.invalid(name, "\(error)")
        }
        for runtime in file.runtimes where RuntimeTable.day(runtime.deprecation) == nil {
            throw PostureDataError.invalid(name, "runtime '\(runtime.id)' has a bad deprecation date '\(runtime.deprecation)' (want yyyy-MM-dd)")
        }
        source = file.source
        compiled = file.compiled
        runtimes = file.runtimes
    }

    /// The table shipped in the module's resources.
    public static func bundled() throws -> RuntimeTable {
        try RuntimeTable(json: try PostureResources.data("lambda-runtimes.json"), source: "lambda-runtimes.json")
    }

    /// The status of `identifier` on `date`. A runtime is deprecated from its deprecation day on.
    public func status(of identifier: String, on date: Date) -> RuntimeStatus {
        let key = identifier.trimmingCharacters(in: .whitespaces).lowercased()
        guard let runtime = runtimes.first(where: { $0.id.lowercased() == key }),
              let deprecation = RuntimeTable.day(runtime.deprecation) else {
            return .unknown(identifier)
        }
        let seconds = deprecation.timeIntervalSince(date)
        if seconds <= 0 { return .deprecated(runtime) }
        return .supported(runtime, daysLeft: Int((seconds / 86_400).rounded(.up)))
    }

    /// Parses `yyyy-MM-dd` as midnight UTC.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").map { Int($0) }
        guard parts.count == 3, let y = parts[0], let m = parts[1], let d = parts[2],
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var components = DateComponents()
        components.year = y; components.month = m; components.day = d
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        calendar.timeZone = utc
        return calendar.date(from: components)
    }
}
