import Foundation
import KitsuneFindings

/// One file handed to the scanner by an input reader of its own (a container image layer).
public struct SuppliedFile: Sendable {
    /// Path for reports: where the file came from (`sha256:LAYER!/usr/bin/xmrig`).
    public var path: String
    /// Unix mode bits.
    public var permissions: UInt32?
    public var bytes: [UInt8]

    public init(path: String, permissions: UInt32?, bytes: [UInt8]) {
        self.path = path
        self.permissions = permissions
        self.bytes = bytes
    }
}

extension FunctionScanner {
    /// Scans files supplied by `feed`, which calls its argument once per file (nested archives in
    /// them are walked as usual). Same rules, catalogers and advisories as `scan(path:)`; the drift
    /// manifest of the result is empty (the image reader builds its own).
    public func scan(supplied feed: ((SuppliedFile) throws -> Void) throws -> Void, notes: [String] = [],
                     progress: ((ScanProgress) -> Void)? = nil) throws -> ScanResult {
        let analyzer = EntryAnalyzer(secretRules: secretRules, forbidden: forbidden, catalogers: catalogers,
                                     archiveTypes: archiveTypes, limits: options.limits)
        let session = ScanSession(analyzer: analyzer, progress: progress)
        session.notes += notes
        do {
            try feed { file in
                let info = EntryInfo(path: file.path, manifestPath: nil, permissions: file.permissions, depth: 0)
                do { try session.process(info, reader: MemoryChunkReader(file.bytes)) } catch let problem as EntryProblem {
                    session.findings.append(ScanFindings.entryProblem(problem, path: file.path))
                    if case .totalLimitReached = problem { throw problem }
                }
            }
        } catch let problem as EntryProblem {
            session.notes.append("Scan incomplete: \(ScanFindings.entryProblem(problem, path: "image").message)")
        }
        return finish(session)
    }
}
