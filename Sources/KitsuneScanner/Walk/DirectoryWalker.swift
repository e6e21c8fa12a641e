import Foundation
import KitsuneFindings
#if canImport(Glibc)
import Glibc
#endif

/// Walks a directory tree (an unpacked package or a container root file system) with `lstat`:
/// symbolic links are never followed (so link loops cannot trap the walk and nothing outside the
/// root is read); links whose target climbs out of the root are reported. A directory reached twice
/// (bind mounts) is walked once.
struct DirectoryWalker {
    let session: ScanSession
    let root: String

    func walk() throws {
        var visited = Set<String>()
        try walk(directory: root, relative: "", visited: &visited)
    }

    private func walk(directory: String, relative: String, visited: inout Set<String>) throws {
        var st = stat()
        guard lstat(directory, &st) == 0 else { return }
        let identity = "\(st.st_dev):\(st.st_ino)"
        guard !visited.contains(identity) else { return }
        visited.insert(identity)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            session.findings.append(ScanFindings.input("unreadable-directory", severity: .medium, path: relative.isEmpty ? "." : relative,
                title: "Directory could not be read", message: "\(directory): \(error.localizedDescription)"))
            return
        }
        for name in names {
            let full = directory + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var entry = stat()
            guard lstat(full, &entry) == 0 else { continue }
            switch entry.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(directory: full, relative: rel, visited: &visited)
            case S_IFLNK:
                checkLink(full, relative: rel)
            case S_IFREG:
                try scanFile(full, relative: rel, mode: UInt32(entry.st_mode))
            default:
                continue // devices, sockets, FIFOs: never opened (a FIFO would block)
            }
        }
    }

    private func scanFile(_ full: String, relative: String, mode: UInt32) throws {
        let source: FileSource
        do { source = try FileSource(path: full) } catch let error as ScanInputError {
            session.findings.append(ScanFindings.input("unreadable-file", severity: .medium, path: relative,
                title: "File could not be read", message: error.description))
            return
        }
        let head = (try? source.read(at: 0, count: 64)) ?? []
        let info = EntryInfo(path: relative, manifestPath: relative, permissions: mode & 0o7777, depth: 0)
        if session.analyzer.archiveTypes.isArchive(path: relative, header: head) {
            // An archive on disk is read in place (random access), not loaded into memory.
            session.files += 1
            do {
                let archive = try ZipArchive(source: source, name: relative, maxEntries: session.limits.maxEntries)
                try session.walk(archive, depth: 1, manifestPrefix: nil)
            } catch let error as ScanInputError {
                session.findings.append(ScanFindings.input("unreadable-archive", severity: .medium, path: relative,
                    title: "Archive could not be read", message: error.description))
            }
            return
        }
        do {
            try session.process(info, reader: FileChunkReader(source: source, limits: session.limits, budget: session.budget))
        } catch let problem as EntryProblem {
            session.findings.append(ScanFindings.entryProblem(problem, path: relative))
            if case .totalLimitReached = problem { throw problem }
        }
    }

    private func checkLink(_ full: String, relative: String) {
        var buffer = [CChar](repeating: 0, count: 4097)
        let length = readlink(full, &buffer, 4096)
        guard length > 0 else { return }
        let target = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = relative.split(separator: "/").dropLast().map(String.init)
        if !target.hasPrefix("/") && ScanSession.escapes(directory + target.split(separator: "/").map(String.init)) {
            session.findings.append(ScanFindings.input("symlink-escape", severity: .low, path: relative,
                title: "Symbolic link pointing outside the scanned root",
                message: "\(relative) links to \(target), outside the scanned directory; not followed.",
                kind: .misconfiguration, properties: ["target": target]))
        }
    }
}
