import Foundation

/// The parts of `aws lambda get-function-configuration` JSON the scanner uses.
public struct LambdaConfiguration: Sendable {
    public var functionName: String?
    public var runtime: String?
    /// `Environment.Variables`.
    public var variables: [String: String]
    public var layers: [String]

    /// Reads `path`; malformed JSON is an error naming the file and line.
    public static func load(path: String) throws -> LambdaConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScanInputError(input: path, reason: "cannot read the function configuration file")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ScanInputError(input: path, reason: JSONErrorDescription.describe(error, in: data))
        }
        guard let root = object as? [String: Any] else {
            throw ScanInputError(input: path, reason: "expected a JSON object (the output of aws lambda get-function-configuration)")
        }
        // `get-function` wraps the configuration in "Configuration".
        let config = root["Configuration"] as? [String: Any] ?? root
        var variables: [String: String] = [:]
        if let environment = config["Environment"] {
            guard let env = environment as? [String: Any] else {
                throw ScanInputError(input: path, reason: "\"Environment\" must be an object")
            }
            if let vars = env["Variables"] {
                guard let dict = vars as? [String: Any] else {
                    throw ScanInputError(input: path, reason: "\"Environment.Variables\" must be an object of strings")
                }
                for (key, value) in dict {
                    guard let string = value as? String else {
                        throw ScanInputError(input: path, reason: "Environment.Variables.\(key) must be a string")
                    }
                    variables[key] = string
                }
            }
        }
        let layers = (config["Layers"] as? [[String: Any]] ?? []).compactMap { $0["Arn"] as? String }
        return LambdaConfiguration(functionName: config["FunctionName"] as? String, runtime: config["Runtime"] as? String,
                                   variables: variables, layers: layers)
    }
}
