import Foundation

/// Reads invocation events for the CLI: one JSON file, or a file with one JSON event per line.
public enum EventSource {
    /// The events from `--event FILE` (one document) repeated `repeatCount` times.
    public static func single(_ path: String?, repeatCount: Int) throws(EmulatorError) -> [Data] {
        guard repeatCount >= 1 else { throw .badEvent("--repeat must be at least 1 (got \(repeatCount))") }
        let data: Data
        if let path {
            data = try read(path)
            try checkJSON(data, where: path)
        } else {
            data = Data("{}".utf8)
        }
        return Array(repeating: data, count: repeatCount)
    }

    /// The events from `--events FILE`: one JSON document per non-empty line.
    public static func lines(_ path: String) throws(EmulatorError) -> [Data] {
        let data = try read(path)
        var events: [Data] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let trimmed = Data(line).filter { $0 != UInt8(ascii: "\r") }
            if trimmed.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            try checkJSON(trimmed, where: "\(path) line \(index + 1)")
            events.append(trimmed)
        }
        if events.isEmpty { throw .badEvent("\(path) holds no events (expected one JSON document per line)") }
        return events
    }

    private static func read(_ path: String) throws(EmulatorError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badEvent("cannot read event file \(path)")
        }
        if data.count > LambdaEmulator.maxPayloadBytes {
            throw .badEvent("\(path) is \(data.count) bytes; Lambda's synchronous payload limit is \(LambdaEmulator.maxPayloadBytes) bytes")
        }
        return data
    }

    private static func checkJSON(_ data: Data, where location: String) throws(EmulatorError) {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw .badEvent("\(location) is not valid JSON")
        }
    }
}
