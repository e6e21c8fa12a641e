import Foundation
import KitsunePolicyCore

/// Builds a drift ``Manifest`` from a directory: every ELF object, every `#!` script and every file
/// with an executable bit, with its SHA-256. Symbolic links are not followed (a link's target is
/// inventoried where it lives, if inside the directory).
public enum ManifestBuilder {
    /// Why a manifest could not be built.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Inventory `directory`; `root` is where it will live at run time (default: the directory itself).
    public static func build(directory: String, root: String? = nil) throws -> Manifest {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw Failure(description: "\(directory): not a directory")
        }
        let base = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        var files: [ManifestFile] = []
        guard let walker = fm.enumerator(atPath: base) else { throw Failure(description: "\(directory): cannot be read") }
        while let relative = walker.nextObject() as? String {
            let full = base + "/" + relative
            var st = stat()
            guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            guard let file = try inventory(full, relative: relative, mode: st.st_mode, size: Int(st.st_size)) else { continue }
            files.append(file)
        }
        let runtimeRoot = root ?? base
        guard runtimeRoot.hasPrefix("/") else { throw Failure(description: "--root must be an absolute path") }
        return Manifest(root: runtimeRoot, files: files)
    }

    /// The manifest entry of one file, or nil when it is not executable content.
    static func inventory(_ path: String, relative: String, mode: mode_t, size: Int) throws -> ManifestFile? {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure(description: "\(path): cannot be read")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        let kind: ManifestFile.Kind
        if head.count == 4 && head == [0x7F, 0x45, 0x4C, 0x46] { kind = .elf }
        else if head.count >= 2 && head[0] == 0x23 && head[1] == 0x21 { kind = .script }
        else if mode & 0o111 != 0 { kind = .other }
        else { return nil }
        try handle.seek(toOffset: 0)
        var hasher = KitsunePolicyCore.SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0.bindMemory(to: UInt8.self)) }
        }
        let digest = String(decoding: hexBytes(hasher.finalize()), as: UTF8.self)
        return ManifestFile(path: relative, sha256: digest, size: size, mode: String(format: "%04o", Int(mode & 0o7777)), kind: kind)
    }
}
