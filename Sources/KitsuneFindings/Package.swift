/// A third-party package found in a scanned input (lockfile, installed metadata, jar, Go binary…).
public struct DiscoveredPackage: Codable, Hashable, Sendable {
    /// OSV ecosystem name: `npm`, `PyPI`, `Go`, `Maven`, `RubyGems`, `crates.io`, `Packagist`, `SwiftURL`.
    public var ecosystem: String
    public var name: String
    public var version: String
    /// Where it was found: paths inside the input (nested archives joined with `!/`), with the kind of
    /// evidence, e.g. `package-lock.json`, `node_modules/x/package.json`, `lib/a.jar!/META-INF/…/pom.properties`.
    public var locations: [String]
    /// Package URL (purl), e.g. `pkg:npm/lodash@4.17.20`.
    public var purl: String

    public init(ecosystem: String, name: String, version: String, locations: [String], purl: String) {
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.locations = locations
        self.purl = purl
    }
}
