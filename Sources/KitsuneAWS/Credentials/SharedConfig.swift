import Foundation

/// The merged contents of `~/.aws/config` and `~/.aws/credentials`: profile name → settings.
/// In the config file profiles are `[profile NAME]` (except `[default]`); in the credentials file
/// they are `[NAME]`. Credential keys from the credentials file win, as in the AWS CLI.
public struct SharedConfig: Sendable {
    public var profiles: [String: [String: String]]
    /// The files that were read (for error messages).
    public var sources: [String]

    public init(profiles: [String: [String: String]] = [:], sources: [String] = []) {
        self.profiles = profiles
        self.sources = sources
    }

    /// Reads both files named by `environment` (missing files are fine; malformed ones are errors).
    public static func load(_ environment: AWSEnvironment) throws -> SharedConfig {
        var result = SharedConfig()
        let configPath = environment.configFilePath
        if let text = try read(configPath) {
            for (section, values) in try parse(text, path: configPath) {
                let name: String
                if section == "default" { name = "default" }
                else if section.hasPrefix("profile ") {
                    name = section.dropFirst("profile ".count).trimmingCharacters(in: .whitespaces)
                } else { continue } // sso-session, services, … sections
                result.profiles[name, default: [:]].merge(values) { _, new in new }
            }
            result.sources.append(configPath)
        }
        let credentialsPath = environment.credentialsFilePath
        if let text = try read(credentialsPath) {
            for (section, values) in try parse(text, path: credentialsPath) {
                result.profiles[section, default: [:]].merge(values) { _, new in new }
            }
            result.sources.append(credentialsPath)
        }
        return result
    }

    private static func read(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AWSError.invalidConfiguration("cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AWSError.invalidConfiguration("\(path) is not UTF-8 text")
        }
        return text
    }

    /// Parses INI text as the AWS CLI does: `[section]`, `key = value`, `#`/`;` comments, and
    /// indented sub-settings (kept as `parent.key`).
    public static func parse(_ text: String, path: String) throws -> [(String, [String: String])] {
        var sections: [(String, [String: String])] = []
        var current: String?
        var values: [String: String] = [:]
        var parentKey: String?
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = String(rawLine).replacingOccurrences(of: "\r", with: "")
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw AWSError.invalidConfiguration("\(path) line \(lineNumber): malformed section header '\(trimmed)'")
                }
                if let name = current { sections.append((name, values)) }
                current = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                values = [:]
                parentKey = nil
                continue
            }
            guard current != nil else {
                throw AWSError.invalidConfiguration("\(path) line \(lineNumber): setting outside of any [section]")
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw AWSError.invalidConfiguration("\(path) line \(lineNumber): expected 'key = value'")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if let hash = value.range(of: " #") { value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces) }
            let indented = line.first == " " || line.first == "\t"
            if indented, let parent = parentKey {
                values["\(parent).\(key)"] = value
            } else {
                values[key] = value
                parentKey = value.isEmpty ? key : nil
            }
        }
        if let name = current { sections.append((name, values)) }
        return sections
    }
}
