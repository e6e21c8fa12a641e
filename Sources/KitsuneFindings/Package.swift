/// How a package's version is known.
public enum PackageSource: String, Codable, CaseIterable, Sendable {
    /// Pinned by a lockfile (`package-lock.json`, `yarn.lock`, `poetry.lock`, `Pipfile.lock`, `go.mod`, …).
    case lockfile
    /// Metadata of an installed copy in the input (`node_modules/x/package.json`, `*.dist-info/METADATA`,
    /// a jar's `pom.properties`).
    case installed
    /// Build information compiled into a binary (Go).
    case binary
    /// An exact pin declared in a manifest (`package.json`, `requirements.txt`, `Pipfile`,
    /// `pyproject.toml`), with no lockfile or installed copy naming the package next to it: the version
    /// that gets installed is the declared one only if nothing else overrides it.
    case manifest

    /// Whether the version was resolved (lockfile, installed, binary) rather than only declared.
    public var isResolved: Bool { self != .manifest }
}

/// A third-party package found in a scanned input (lockfile, installed metadata, jar, Go binary, manifest).
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
    /// Where the version comes from: a lockfile, an installed copy, a binary, or only a manifest's pin.
    public var source: PackageSource

    public init(ecosystem: String, name: String, version: String, locations: [String], purl: String,
                source: PackageSource = .lockfile) {
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.locations = locations
        self.purl = purl
        self.source = source
    }

    private enum CodingKeys: String, CodingKey { case ecosystem, name, version, locations, purl, source }

    /// Decodes packages written before `source` existed as `lockfile`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ecosystem = try c.decode(String.self, forKey: .ecosystem)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        locations = try c.decode([String].self, forKey: .locations)
        purl = try c.decode(String.self, forKey: .purl)
        source = try c.decodeIfPresent(PackageSource.self, forKey: .source) ?? .lockfile
    }
}
