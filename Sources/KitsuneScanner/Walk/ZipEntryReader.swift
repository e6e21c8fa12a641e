import CKitsuneZlib

/// Why reading an entry stopped early. Each becomes a finding on that entry; the scan goes on.
public enum EntryProblem: Error, Sendable, Equatable {
    case encrypted
    case unsupportedMethod(UInt16)
    case corrupt(String)
    case crcMismatch(expected: UInt32, actual: UInt32)
    /// Inflated beyond its declared size, or a compression ratio above the limit.
    case bomb(String)
    case entryTooLarge(limit: Int)
    case totalLimitReached(limit: Int)
}

/// Pulls an entry's contents chunk by chunk (stored or deflated), never holding more than one chunk,
/// checking the CRC-32 at the end and the size/ratio limits as it goes.
public final class ZipEntryReader {
    private let archive: ZipArchive
    private let entry: ZipEntry
    private let limits: ScanLimits
    private let budget: ScanBudget
    private var inputOffset: Int
    private var inputRemaining: Int
    private var produced = 0
    private var crc: UInt32 = 0
    private var finished = false
    private var stream: UnsafeMutablePointer<z_stream>?
    private var pendingInput: [UInt8] = []
    private let chunkSize: Int

    public init(archive: ZipArchive, entry: ZipEntry, limits: ScanLimits, budget: ScanBudget, chunkSize: Int = 256 * 1024) throws {
        self.archive = archive
        self.entry = entry
        self.limits = limits
        self.budget = budget
        self.chunkSize = chunkSize
        if entry.isEncrypted { throw EntryProblem.encrypted }
        guard entry.method == 0 || entry.method == 8 else { throw EntryProblem.unsupportedMethod(entry.method) }
        if entry.uncompressedSize > limits.maxEntryBytes { throw EntryProblem.entryTooLarge(limit: limits.maxEntryBytes) }
        if entry.uncompressedSize > limits.ratioCheckMinimumBytes,
           entry.uncompressedSize / max(1, entry.compressedSize) > limits.maxCompressionRatio {
            throw EntryProblem.bomb("declared compression ratio \(entry.uncompressedSize / max(1, entry.compressedSize)):1 (\(entry.uncompressedSize) bytes from \(entry.compressedSize)) exceeds the limit of \(limits.maxCompressionRatio):1")
        }
        if entry.method == 0 && entry.compressedSize != entry.uncompressedSize {
            throw EntryProblem.corrupt("stored entry with different compressed (\(entry.compressedSize)) and uncompressed (\(entry.uncompressedSize)) sizes")
        }
        self.inputOffset = try archive.dataOffset(of: entry)
        self.inputRemaining = entry.compressedSize
        if entry.method == 8 {
            let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            s.initialize(to: z_stream())
            let status = inflateInit2_(s, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                s.deallocate()
                throw EntryProblem.corrupt("zlib initialisation failed (\(status))")
            }
            stream = s
        }
    }

    deinit {
        if let s = stream {
            inflateEnd(s)
            s.deinitialize(count: 1)
            s.deallocate()
        }
    }

    /// Bytes produced so far.
    public var bytesRead: Int { produced }

    /// The next chunk of contents, or nil at the end (after the CRC was verified).
    public func next() throws -> [UInt8]? {
        if finished { return nil }
        let chunk: [UInt8]
        if entry.method == 0 {
            if inputRemaining == 0 { return try finish() }
            let n = min(chunkSize, inputRemaining)
            chunk = try archive.source.read(at: inputOffset, count: n)
            guard chunk.count == n else { throw EntryProblem.corrupt("truncated entry data") }
            inputOffset += n
            inputRemaining -= n
        } else {
            guard let out = try inflateChunk() else { return try finish() }
            chunk = out
        }
        try account(chunk)
        return chunk
    }

    private func account(_ chunk: [UInt8]) throws {
        produced += chunk.count
        if produced > entry.uncompressedSize {
            throw EntryProblem.bomb("inflates beyond its declared size of \(entry.uncompressedSize) bytes")
        }
        if produced > limits.maxEntryBytes { throw EntryProblem.entryTooLarge(limit: limits.maxEntryBytes) }
        let consumed = max(1, entry.compressedSize - inputRemaining - pendingInput.count)
        if produced > limits.ratioCheckMinimumBytes, produced / consumed > limits.maxCompressionRatio {
            throw EntryProblem.bomb("compression ratio above \(limits.maxCompressionRatio):1 after \(produced) bytes")
        }
        guard budget.consume(chunk.count) else { throw EntryProblem.totalLimitReached(limit: limits.maxTotalBytes) }
        crc = chunk.withUnsafeBufferPointer { buf in
            UInt32(crc32(uLong(crc), buf.baseAddress, uInt(buf.count)))
        }
    }

    private func finish() throws -> [UInt8]? {
        finished = true
        if produced != entry.uncompressedSize {
            throw EntryProblem.corrupt("contents end after \(produced) of \(entry.uncompressedSize) declared bytes")
        }
        if crc != entry.crc32 { throw EntryProblem.crcMismatch(expected: entry.crc32, actual: crc) }
        return nil
    }

    private func inflateChunk() throws -> [UInt8]? {
        guard let s = stream else { return nil }
        var output = [UInt8](unsafeUninitializedCapacity: chunkSize) { _, initialized in initialized = chunkSize }
        var written = 0
        while written < chunkSize {
            if pendingInput.isEmpty && inputRemaining > 0 {
                let n = min(64 * 1024, inputRemaining)
                pendingInput = try archive.source.read(at: inputOffset, count: n)
                guard pendingInput.count == n else { throw EntryProblem.corrupt("truncated entry data") }
                inputOffset += n
                inputRemaining -= n
            }
            let inputCount = pendingInput.count
            var status: Int32 = Z_OK
            var usedInput = 0
            pendingInput.withUnsafeMutableBufferPointer { inBuf in
                output.withUnsafeMutableBufferPointer { outBuf in
                    s.pointee.next_in = inBuf.baseAddress
                    s.pointee.avail_in = uInt(inputCount)
                    s.pointee.next_out = outBuf.baseAddress.map { $0 + written }
                    s.pointee.avail_out = uInt(chunkSize - written)
                    status = inflate(s, Z_NO_FLUSH)
                    usedInput = inputCount - Int(s.pointee.avail_in)
                    written = chunkSize - Int(s.pointee.avail_out)
                }
            }
            pendingInput.removeFirst(usedInput)
            if status == Z_STREAM_END {
                if written == 0 { return nil }
                output.removeLast(chunkSize - written)
                inputRemaining = 0
                pendingInput = []
                return output
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                let message = s.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                throw EntryProblem.corrupt("invalid deflate data (\(message))")
            }
            if status == Z_BUF_ERROR && pendingInput.isEmpty && inputRemaining == 0 {
                throw EntryProblem.corrupt("deflate stream ends before its end marker (truncated)")
            }
        }
        return output
    }
}

/// Byte budget shared by one scan (total uncompressed bytes read), a reference so every reader of
/// the scan draws from it. Not global: each scan creates its own.
public final class ScanBudget: @unchecked Sendable {
    // @unchecked: a scan runs on one thread; the budget is never shared between scans.
    public let limit: Int
    public private(set) var used = 0

    public init(limit: Int) { self.limit = limit }

    /// Accounts `bytes`; false once the total limit is exceeded.
    public func consume(_ bytes: Int) -> Bool {
        used += bytes
        return used <= limit
    }
}
