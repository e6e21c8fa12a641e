import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Random-access bytes an archive is read from: a file on disk (read with `pread`, never mapped or
/// loaded whole) or a nested archive held in memory.
public protocol ByteSource: Sendable {
    /// Total size in bytes.
    var size: Int { get }
    /// Reads up to `count` bytes at `offset`; fewer only at the end of the source.
    func read(at offset: Int, count: Int) throws -> [UInt8]
}

/// A clear, user-facing error about one input (top-level or nested), naming it.
public struct ScanInputError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input the problem is about (a path, or an entry path with `!/`).
    public var input: String
    /// What is wrong with it.
    public var reason: String

    public init(input: String, reason: String) {
        self.input = input
        self.reason = reason
    }

    public var description: String { "\(input): \(reason)" }
}

/// A regular file read through a file descriptor with `pread`.
public final class FileSource: ByteSource, @unchecked Sendable {
    // @unchecked: the descriptor is only used with positional reads (pread), which are thread safe,
    // and it is closed once, in deinit.
    private let fd: Int32
    public let size: Int
    public let path: String

    /// Opens `path` for reading.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ScanInputError(input: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ScanInputError(input: path, reason: "cannot stat: \(message)")
        }
        self.fd = fd
        self.size = Int(st.st_size)
        self.path = path
    }

    deinit { close(fd) }

    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0 else {
            throw ScanInputError(input: path, reason: "invalid read at offset \(offset)")
        }
        let wanted = max(0, min(count, size - offset))
        if wanted == 0 { return [] }
        var buffer = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let got = buffer.withUnsafeMutableBytes { raw -> Int in
                pread(fd, raw.baseAddress! + done, wanted - done, off_t(offset + done))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw ScanInputError(input: path, reason: "read error: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            done += got
        }
        if done < wanted { buffer.removeLast(wanted - done) }
        return buffer
    }
}

/// Bytes held in memory (a nested archive that was inflated from its parent).
public struct MemorySource: ByteSource {
    public let bytes: [UInt8]
    public var size: Int { bytes.count }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= bytes.count else { return [] }
        let end = min(bytes.count, offset + count)
        return Array(bytes[offset..<end])
    }
}

/// Reads little-endian integers from untrusted bytes without ever indexing out of range.
struct LittleEndianReader {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { max(0, bytes.count - position) }

    mutating func u16() -> UInt16? {
        guard position >= 0, position + 2 <= bytes.count else { return nil }
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    mutating func u32() -> UInt32? {
        guard let lo = u16(), let hi = u16() else { return nil }
        return UInt32(lo) | UInt32(hi) << 16
    }

    mutating func u64() -> UInt64? {
        guard let lo = u32(), let hi = u32() else { return nil }
        return UInt64(lo) | UInt64(hi) << 32
    }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, position >= 0, position + count <= bytes.count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, position + count <= bytes.count else { return false }
        position += count
        return true
    }
}
