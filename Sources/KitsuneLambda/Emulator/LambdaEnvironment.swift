import Foundation

/// Builds the Lambda environment variables from `Data/environment.json`.
struct LambdaEnvironment {
    private struct File: Decodable {
        var defaults: [String: String]
        var managedOnly: [String: String]
        var reserved: [String]
    }

    private let file: File

    /// Loads the bundled table.
    static func bundled() throws(EmulatorError) -> LambdaEnvironment {
        guard let url = Bundle.module.url(forResource: "environment", withExtension: "json", subdirectory: "Data") else {
            throw .system("environment.json is missing from the KitsuneLambda resources")
        }
        do {
            return LambdaEnvironment(file: try JSONDecoder().decode(File.self, from: Data(contentsOf: url)))
        } catch {
            throw .system("cannot read \(url.path): \(error)")
        }
    }

    /// Keys a function configuration may not set.
    var reserved: Set<String> { Set(file.reserved) }

    /// The full environment of a runtime or extension process.
    func build(_ config: EmulatorConfiguration, runtimeAPI: String, managed: Bool,
               runtimeExtras: [String: String]) throws(EmulatorError) -> [String: String] {
        let clash = config.environment.keys.filter { reserved.contains($0) }.sorted()
        if !clash.isEmpty {
            throw .invalidConfiguration("environment variable(s) \(clash.joined(separator: ", ")) are reserved by Lambda and cannot be set")
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy/MM/dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let date = formatter.string(from: Date())
        let stream = "\(date)/[$LATEST]" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let values = ["runtimeApi": runtimeAPI, "handler": config.handler, "functionName": config.functionName,
                      "memoryMB": String(config.memoryMB), "logStream": stream, "region": config.region,
                      "runtime": config.runtime]
        func fill(_ template: String) -> String {
            var out = template
            for (k, v) in values { out = out.replacingOccurrences(of: "{\(k)}", with: v) }
            return out
        }
        var env = file.defaults.mapValues(fill)
        if managed { env.merge(file.managedOnly.mapValues(fill)) { $1 } }
        env.merge(runtimeExtras) { $1 }
        env.merge(config.environment) { $1 }
        return env
    }
}
