import Foundation

/// Which files are walked as zip archives (`Rules/archive-types.json`).
public struct ArchiveTypes: Codable, Sendable {
    public var version: Int
    public var zipExtensions: [String]

    public init(zipExtensions: [String]) {
        self.version = 1
        self.zipExtensions = zipExtensions
    }

    /// The built-in list from the scanner's resources.
    public static func builtIn() throws -> ArchiveTypes {
        guard let url = Bundle.module.url(forResource: "archive-types", withExtension: "json", subdirectory: "Rules"),
              let data = FileManager.default.contents(atPath: url.path) else {
            throw ScanInputError(input: "Rules/archive-types.json", reason: "missing from the scanner resources")
        }
        do { return try JSONDecoder().decode(ArchiveTypes.self, from: data) } catch {
            throw ScanInputError(input: "Rules/archive-types.json", reason: JSONErrorDescription.describe(error, in: data))
        }
    }

    /// Whether a file named `path` whose contents start with `header` is walked as an archive.
    func isArchive(path: String, header: [UInt8]) -> Bool {
        guard ZipArchive.looksLikeZip(header), let dot = path.lastIndex(of: ".") else { return false }
        let ext = path[path.index(after: dot)...].lowercased()
        return zipExtensions.contains(ext)
    }
}
