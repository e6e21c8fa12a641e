import Foundation
import KitsuneFindings

/// One honeytoken as recorded locally. The secret is kept so the key can be planted as bait.
public struct HoneytokenRecord: Codable, Sendable, Equatable {
    public var name: String
    public var userName: String
    public var userARN: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var createdAt: String

    public init(name: String, userName: String, userARN: String, accessKeyID: String, secretAccessKey: String,
                createdAt: String) {
        self.name = name
        self.userName = userName
        self.userARN = userARN
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.createdAt = createdAt
    }
}

/// The local honeytoken file (`~/.config/kitsune/honeytokens.json` or `--store FILE`):
/// `{"version": 1, "honeytokens": [...]}`, mode 0600, replaced atomically (temp file + rename).
public struct HoneytokenStore: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `$XDG_CONFIG_HOME/kitsune/honeytokens.json`, else `~/.config/kitsune/honeytokens.json`.
    public static func defaultPath(_ environment: AWSEnvironment = .process) -> String {
        let base = environment.nonEmpty("XDG_CONFIG_HOME") ?? environment.homeDirectory + "/.config"
        return base + "/kitsune/honeytokens.json"
    }

    private struct File: Codable {
        var version: Int
        var honeytokens: [HoneytokenRecord]
    }

    /// The recorded honeytokens (empty when the file does not exist yet).
    public func load() throws -> [HoneytokenRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AWSError.invalidInput("honeytoken store \(path): cannot read it")
        }
        do {
            let file = try JSONDecoder().decode(File.self, from: data)
            guard file.version == 1 else {
                throw AWSError.invalidInput("honeytoken store \(path): version \(file.version) is not supported (expected 1)")
            }
            return file.honeytokens
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError.invalidInput("honeytoken store \(path) is not valid JSON of the expected shape: \(error)")
        }
    }

    /// Replaces the file with `records`, atomically and readable by the owner only.
    public func save(_ records: [HoneytokenRecord]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(File(version: 1, honeytokens: records))
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory,
                                                    withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw AWSError.invalidInput("honeytoken store: cannot create directory \(directory): \(error)")
        }
        do { try AtomicFile.write(data, to: path, mode: 0o600) } catch {
            throw AWSError.invalidInput("honeytoken store: cannot write \(error)")
        }
    }
}
