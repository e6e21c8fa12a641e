import Foundation

/// The drift manifest: the inventory of executable content of a deployed package. `kitsune manifest`
/// and `kitsune scan --manifest-out` write it, `kitsune-enforcer --manifest` reads it; an exec of a
/// file beneath `root` whose content is not listed here with the same SHA-256 is drift.
///
/// ```json
/// {"version":1,"root":"/var/task","files":[{"path":"bin/tool","sha256":"…","size":1234,"mode":"0755","kind":"elf"}]}
/// ```
public struct Manifest: Codable, Equatable, Sendable {
    public static let currentVersion = 1

    public var version: Int
    /// Where the package lives at run time (`/var/task`, `/opt`, a container root `/`).
    public var root: String
    public var files: [ManifestFile]

    public init(root: String, files: [ManifestFile]) {
        self.version = Self.currentVersion
        self.root = root
        self.files = files.sorted { $0.path < $1.path }
    }

    /// Canonical JSON (sorted keys, one file per line) so manifests diff well in git.
    public func jsonData() -> Data {
        var out = "{\"version\":\(version),\"root\":\(Self.quote(root)),\"files\":["
        for (index, file) in files.enumerated() {
            out += index == 0 ? "\n" : ",\n"
            out += "{\"path\":\(Self.quote(file.path)),\"sha256\":\"\(file.sha256)\",\"size\":\(file.size),"
            out += "\"mode\":\"\(file.mode)\",\"kind\":\"\(file.kind.rawValue)\"}"
        }
        out += files.isEmpty ? "]}\n" : "\n]}\n"
        return Data(out.utf8)
    }

    static func quote(_ s: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        guard let data, let text = String(data: data, encoding: .utf8) else { return "\"\"" }
        return String(text.dropFirst().dropLast())
    }
}

/// One executable file of a manifest.
public struct ManifestFile: Codable, Equatable, Sendable {
    /// What makes the file executable content.
    public enum Kind: String, Codable, Sendable {
        case elf        // an ELF object (program or shared library), executable bit or not
        case script     // starts with `#!`
        case other      // has an executable bit but is neither
    }

    /// Path relative to the manifest root, `/`-separated, no leading `./`.
    public var path: String
    /// Lower-case hex SHA-256 of the contents.
    public var sha256: String
    public var size: Int
    /// Permission bits in octal, e.g. `0755`.
    public var mode: String
    public var kind: Kind

    public init(path: String, sha256: String, size: Int, mode: String, kind: Kind) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.mode = mode
        self.kind = kind
    }
}
