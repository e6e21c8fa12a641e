import Foundation
import KitsunePolicy
import KitsunePolicyCore
import KitsuneScanner

/// `kitsune protect`: for `provided.al2` / `provided.al2023` functions (Go, Rust, Swift, …), which ignore
/// `AWS_LAMBDA_EXEC_WRAPPER`. The function's `bootstrap` is renamed `.kitsune-bootstrap` in the same
/// directory (so `dirname "$0"`, `current_exe()` and relative symlinks keep working) and a new
/// `bootstrap` starts it under the enforcer, with the package's drift manifest (and `.kitsune/kitsune-ship`,
/// the HTTPS helper for events, when it was built next to the enforcer). Every other entry is
/// copied bit for bit (local header, data, permissions, symlinks); zips with traversal paths are refused.
public enum FunctionProtector {
    /// Why a function zip could not be protected.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where Kitsune's files live inside the package.
    public static let directory = ".kitsune"
    /// The function's own bootstrap, renamed beside the new one.
    public static let movedBootstrap = ".kitsune-bootstrap"

    /// The protected zip's bytes. `architecture`, when given, is the function's: the enforcer must be
    /// built for it. A native (ELF) bootstrap must match the enforcer's architecture either way.
    public static func protect(zip path: String, enforcer: URL, policy: URL?, architecture: LayerArchitecture? = nil,
                               root: String = "/var/task") throws -> Data {
        let archive = try open(path)
        for entry in archive.entries {
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            if entry.name.hasPrefix("/") || entry.name.contains("\\") || parts.contains("..") {
                throw Failure(description: "\(path): entry \"\(entry.name)\" escapes the package (zip slip); refusing to rewrite it")
            }
            if entry.name.hasPrefix(directory + "/") || entry.name == movedBootstrap {
                throw Failure(description: "\(path): already protected (it has \(entry.name))")
            }
        }
        guard let original = archive.entries.first(where: { $0.name == "bootstrap" && !$0.isDirectory }) else {
            throw Failure(description: "\(path): no bootstrap at the root of the zip: `kitsune protect` is for provided.al2/provided.al2023 functions (managed runtimes use the layer and AWS_LAMBDA_EXEC_WRAPPER)")
        }
        let layer = try LayerBuilder.entries(enforcer: enforcer, policy: policy, architecture: architecture)
        if let native = try bootstrapArchitecture(original, of: archive),
           let built = layer.first.flatMap({ LayerArchitecture.of(elf: $0.data) }), native != built {
            throw Failure(description: "\(path): bootstrap is an \(native.rawValue) program but kitsune-enforcer \(enforcer.path) is \(built.rawValue): protect it with --architecture \(native.rawValue)")
        }
        var writer = ZipWriter()
        var manifestFiles: [ManifestFile] = []
        for entry in archive.entries {
            let name = entry == original ? movedBootstrap : entry.name
            try copy(entry, of: archive, as: name, into: &writer)
            if let file = try inventory(entry, of: archive, as: name) { manifestFiles.append(file) }
        }
        let manifest = Manifest(root: root, files: manifestFiles)
        for entry in layer {
            switch entry.path {
            case "kitsune/bin/kitsune-enforcer": try writer.add(.init(path: "\(directory)/kitsune-enforcer", data: entry.data, mode: 0o755))
            case "kitsune/bin/kitsune-ship": try writer.add(.init(path: "\(directory)/kitsune-ship", data: entry.data, mode: 0o755))
            case "kitsune/policy.yaml": try writer.add(.init(path: "\(directory)/policy.yaml", data: entry.data, mode: 0o644))
            default: continue
            }
        }
        try writer.add(.init(path: "\(directory)/manifest.json", data: manifest.jsonData(), mode: 0o644))
        try writer.add(.init(path: "bootstrap", data: try LayerBuilder.resource("bootstrap"), mode: 0o755))
        return try writer.finish()
    }

    /// The architecture of the zip's native `bootstrap` (nil: no bootstrap, or a script), to pick the
    /// enforcer when `--architecture` is not given.
    public static func bootstrapArchitecture(zip path: String) throws -> LayerArchitecture? {
        let archive = try open(path)
        guard let original = archive.entries.first(where: { $0.name == "bootstrap" && !$0.isDirectory }) else { return nil }
        return try bootstrapArchitecture(original, of: archive)
    }

    static func open(_ path: String) throws -> ZipArchive {
        do { return try ZipArchive(source: try FileSource(path: path), name: path, maxEntries: 100_000) } catch {
            throw Failure(description: "\(path): not a readable zip archive: \(error)")
        }
    }

    /// An ELF bootstrap's architecture; nil for scripts (and for ELF files of another machine, which
    /// the protector leaves to Lambda to refuse).
    static func bootstrapArchitecture(_ entry: ZipEntry, of archive: ZipArchive) throws -> LayerArchitecture? {
        guard !entry.isSymlink else { return nil }
        let limits = ScanLimits()
        let reader = try ZipEntryReader(archive: archive, entry: entry, limits: limits, budget: ScanBudget(limit: limits.maxTotalBytes),
                                        chunkSize: 64)
        return try reader.next().flatMap { LayerArchitecture.of(elf: Data($0)) }
    }

    /// Copy one entry's local record as it is (renamed if `name` differs).
    static func copy(_ entry: ZipEntry, of archive: ZipArchive, as name: String, into writer: inout ZipWriter) throws {
        let header = try archive.source.read(at: entry.localHeaderOffset, count: 30)
        guard header.count == 30 else { throw Failure(description: "\(archive.name)!/\(entry.name): truncated local header") }
        let dataStart = try archive.dataOffset(of: entry)
        let extraStart = entry.localHeaderOffset + 30 + (Int(header[26]) | Int(header[27]) << 8)
        let extra = try archive.source.read(at: extraStart, count: dataStart - extraStart)
        var body = try archive.source.read(at: dataStart, count: entry.compressedSize)
        if entry.flags & 0x8 != 0 {      // data descriptor follows the data: keep it with the body
            let next = try archive.source.read(at: dataStart + entry.compressedSize, count: 16)
            let signed = next.count >= 4 && next[0] == 0x50 && next[1] == 0x4B && next[2] == 0x07 && next[3] == 0x08
            body += next.prefix(signed ? 16 : 12)
        }
        let nameBytes = Data(name.utf8)
        var local = Data(header.prefix(26))
        local.append(ZipWriter.le16(UInt16(nameBytes.count)))
        local.append(ZipWriter.le16(UInt16(extra.count)))
        local.append(nameBytes)
        local.append(Data(extra))
        let u16 = { (o: Int) in UInt16(header[o]) | UInt16(header[o + 1]) << 8 }
        try writer.addRaw(localHeader: local, body: Data(body), name: nameBytes, versionNeeded: u16(4), flags: entry.flags,
                          method: entry.method, dosTime: u16(10), dosDate: u16(12), crc: entry.crc32,
                          compressedSize: entry.compressedSize, size: entry.uncompressedSize,
                          externalAttributes: entry.externalAttributes, madeByUnix: entry.unixMode != nil)
    }

    /// The manifest record of an executable entry (ELF, `#!` script, or executable bit).
    static func inventory(_ entry: ZipEntry, of archive: ZipArchive, as name: String) throws -> ManifestFile? {
        guard !entry.isDirectory, !entry.isSymlink else { return nil }
        let limits = ScanLimits()
        let reader = try ZipEntryReader(archive: archive, entry: entry, limits: limits, budget: ScanBudget(limit: limits.maxTotalBytes))
        var hasher = KitsunePolicyCore.SHA256()
        var head: [UInt8] = []
        var size = 0
        while let chunk = try reader.next() {
            if head.count < 4 { head += chunk.prefix(4 - head.count) }
            hasher.update(chunk)
            size += chunk.count
        }
        let mode = entry.permissions ?? 0o644
        let kind: ManifestFile.Kind
        if head == [0x7F, 0x45, 0x4C, 0x46] { kind = .elf }
        else if head.starts(with: [0x23, 0x21]) { kind = .script }
        else if mode & 0o111 != 0 { kind = .other }
        else { return nil }
        return ManifestFile(path: name, sha256: String(decoding: hexBytes(hasher.finalize()), as: UTF8.self), size: size,
                            mode: String(format: "%04o", Int(mode)), kind: kind)
    }
}
