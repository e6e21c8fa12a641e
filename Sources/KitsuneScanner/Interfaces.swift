import KitsuneFindings

/// A file met while walking a scan input (directory, zip, nested archive), handed to a cataloger.
public struct ScanEntry: Sendable {
    /// Path inside the input; entries of nested archives are joined with `!/` (`lib/a.jar!/META-INF/x`).
    public let path: String
    public let size: Int
    /// The whole contents (only files a cataloger accepted are read; bounded by the scan limits).
    public let bytes: [UInt8]

    public init(path: String, size: Int, bytes: [UInt8]) {
        self.path = path
        self.size = size
        self.bytes = bytes
    }
}

/// What a cataloger found in one file.
public struct CatalogResult: Sendable {
    public var packages: [DiscoveredPackage]
    /// Problems reading the file (kind `.inputError`, with the file and line), reported and scanned past.
    public var problems: [Finding]

    public init(packages: [DiscoveredPackage] = [], problems: [Finding] = []) {
        self.packages = packages
        self.problems = problems
    }
}

/// Finds packages in one kind of file (a lockfile format, installed metadata, a binary's build info).
public protocol PackageCataloger: Sendable {
    /// Cheap test on the entry path and the first bytes (up to 64) of the file.
    func accepts(path: String, header: [UInt8]) -> Bool
    func packages(in entry: ScanEntry) -> CatalogResult
    /// What the versions this cataloger reports are (stamped on every package it returns).
    var source: PackageSource { get }
}

extension PackageCataloger {
    /// Lockfiles are the common case.
    public var source: PackageSource { .lockfile }
}

/// Matches packages against vulnerability advisories.
public protocol VulnerabilityMatcher: Sendable {
    func findings(for packages: [DiscoveredPackage]) -> [Finding]
}
