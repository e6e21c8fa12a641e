/// Limits that keep a scan bounded in time and memory whatever the input. All configurable.
public struct ScanLimits: Sendable, Equatable {
    /// Total uncompressed bytes read over the whole scan (all archives and files).
    public var maxTotalBytes: Int
    /// Uncompressed size of one entry or file.
    public var maxEntryBytes: Int
    /// Uncompressed/compressed ratio above which an entry is treated as a zip bomb.
    public var maxCompressionRatio: Int
    /// The ratio is only judged once an entry produced more than this (small files compress well).
    public var ratioCheckMinimumBytes: Int
    /// Entries of one archive.
    public var maxEntries: Int
    /// Nesting depth of archives inside archives (the top-level archive is depth 1).
    public var maxDepth: Int
    /// A nested archive is inflated into memory to read its directory: at most this many bytes.
    public var maxNestedArchiveBytes: Int
    /// A file handed whole to a package cataloger (lockfile, metadata): at most this many bytes.
    public var maxCatalogFileBytes: Int

    public init(maxTotalBytes: Int = 16 << 30, maxEntryBytes: Int = 4 << 30, maxCompressionRatio: Int = 200,
                ratioCheckMinimumBytes: Int = 1 << 20, maxEntries: Int = 500_000, maxDepth: Int = 4,
                maxNestedArchiveBytes: Int = 256 << 20, maxCatalogFileBytes: Int = 64 << 20) {
        self.maxTotalBytes = maxTotalBytes
        self.maxEntryBytes = maxEntryBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.ratioCheckMinimumBytes = ratioCheckMinimumBytes
        self.maxEntries = maxEntries
        self.maxDepth = maxDepth
        self.maxNestedArchiveBytes = maxNestedArchiveBytes
        self.maxCatalogFileBytes = maxCatalogFileBytes
    }
}
