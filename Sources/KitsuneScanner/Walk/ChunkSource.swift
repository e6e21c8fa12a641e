/// Contents of one file or entry, pulled chunk by chunk (bounded memory whatever the size).
protocol ChunkSource: AnyObject {
    /// The next chunk, or nil at the end.
    func next() throws -> [UInt8]?
}

extension ZipEntryReader: ChunkSource {}

/// Sequential chunks of a file on disk, accounted against the scan limits.
final class FileChunkReader: ChunkSource {
    private let source: any ByteSource
    private let limits: ScanLimits
    private let budget: ScanBudget
    private var offset = 0
    private let chunkSize: Int

    init(source: any ByteSource, limits: ScanLimits, budget: ScanBudget, chunkSize: Int = 256 * 1024) throws {
        self.source = source
        self.limits = limits
        self.budget = budget
        self.chunkSize = chunkSize
        if source.size > limits.maxEntryBytes { throw EntryProblem.entryTooLarge(limit: limits.maxEntryBytes) }
    }

    func next() throws -> [UInt8]? {
        guard offset < source.size else { return nil }
        let chunk = try source.read(at: offset, count: chunkSize)
        if chunk.isEmpty { return nil }
        offset += chunk.count
        guard budget.consume(chunk.count) else { throw EntryProblem.totalLimitReached(limit: limits.maxTotalBytes) }
        return chunk
    }
}

/// Chunks of bytes already in memory (environment variables, tests).
final class MemoryChunkReader: ChunkSource {
    private var chunks: [[UInt8]]

    init(_ bytes: [UInt8], chunkSize: Int = 256 * 1024) {
        var chunks: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            chunks.append(Array(bytes[start..<min(bytes.count, start + chunkSize)]))
            start += chunkSize
        }
        self.chunks = chunks.reversed()
    }

    func next() throws -> [UInt8]? { chunks.popLast() }
}
