import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers never see a half-written one: the data goes to a temporary file in
/// the same directory, is flushed, then renamed over the destination. Used for every file Kitsune
/// writes (reports, manifests, layer zips, the honeytoken store).
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Write `data` to `path` with permission bits `mode`.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/.\(base).tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw WriteError(path: path, reason: "cannot create a temporary file: \(String(cString: strerror(errno)))") }
        let temporary = String(cString: template)
        var ok = true
        var reason = ""
        data.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    reason = String(cString: strerror(errno))
                    return
                }
                written += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; reason = String(cString: strerror(errno)) }
        fchmod(fd, mode)
        close(fd)
        guard ok else {
            unlink(temporary)
            throw WriteError(path: path, reason: "write failed: \(reason)")
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(path: path, reason: "cannot move into place: \(message)")
        }
    }
}
