import Crypto
import Foundation
import KitsuneFindings
import KitsunePolicy

/// A file or entry met while walking, before its contents are read.
struct EntryInfo {
    /// Full path for reports (nested archives joined with `!/`).
    var path: String
    /// Path relative to the package root when the entry is a top-level file (manifest), else nil.
    var manifestPath: String?
    /// Unix mode bits when known.
    var permissions: UInt32?
    /// Nesting depth of the archive the entry lives in (0: a plain file or directory entry).
    var depth: Int
}

/// What one entry yielded.
struct EntryOutcome {
    var secrets: [SecretMatch] = []
    var executable: ExecutableRecord?
    var manifestFile: ManifestFile?
    var findings: [Finding] = []
    var packages: [DiscoveredPackage] = []
    /// The bytes of a nested archive to walk next.
    var nestedArchive: [UInt8]?
    var bytes = 0
}

/// Reads one entry once and feeds every analysis at the same time: secrets, executables, indicator
/// strings, package catalogers, nested archive detection.
struct EntryAnalyzer {
    let secretRules: SecretRuleSet
    let forbidden: ForbiddenList
    let catalogers: [any PackageCataloger]
    let archiveTypes: ArchiveTypes
    let limits: ScanLimits

    static let headSize = 64 * 1024

    /// Analyzes `info` reading `reader`. Entry problems become findings; partial results are kept.
    /// Rethrows only `EntryProblem.totalLimitReached` (the whole scan stops).
    func analyze(_ info: EntryInfo, reader: any ChunkSource) throws -> EntryOutcome {
        var outcome = EntryOutcome()
        do {
            try read(info, reader: reader, into: &outcome)
        } catch let problem as EntryProblem {
            outcome.findings.append(ScanFindings.entryProblem(problem, path: info.path))
            if case .totalLimitReached = problem { throw problem }
        } catch {
            outcome.findings.append(ScanFindings.input("read-error", severity: .medium, path: info.path,
                                                       title: "Entry could not be read", message: "\(error)"))
        }
        return outcome
    }

    private func read(_ info: EntryInfo, reader: any ChunkSource, into outcome: inout EntryOutcome) throws {
        // The head: enough to classify the file.
        var head: [UInt8] = []
        var pending: [[UInt8]] = []
        var ended = false
        while head.count < Self.headSize {
            guard let chunk = try reader.next() else { ended = true; break }
            head.append(contentsOf: chunk.prefix(Self.headSize - head.count))
            pending.append(chunk)
        }
        let header = Array(head.prefix(64))
        let isArchive = archiveTypes.isArchive(path: info.path, header: header)
        let accepting = catalogers.filter { $0.accepts(path: info.path, header: header) }
        let format = isArchive ? nil : ExecutableFormat.detect(head)
        let execBit = (info.permissions ?? 0) & 0o111 != 0
        let baseName = info.path.split(separator: "/").last.map(String.init) ?? info.path
        var hasher: SHA256? = (format != nil || execBit) ? SHA256() : nil
        let binary = head.prefix(8192).contains(0)
        let secrets: SecretStreamScanner? = isArchive ? nil : SecretStreamScanner(rules: secretRules, binary: binary)
        var indicators = IndicatorSearch(forbidden)
        let collectLimit = isArchive ? limits.maxNestedArchiveBytes : limits.maxCatalogFileBytes
        var collected: [UInt8]? = (isArchive || !accepting.isEmpty) ? [] : nil
        var tooLargeToCollect = false
        var size = 0

        func consume(_ chunk: [UInt8]) {
            size += chunk.count
            hasher?.update(data: chunk)
            secrets?.feed(chunk)
            if !isArchive { indicators.feed(chunk) }
            if collected != nil {
                if (collected?.count ?? 0) + chunk.count > collectLimit {
                    collected = nil
                    tooLargeToCollect = true
                } else {
                    collected?.append(contentsOf: chunk)
                }
            }
        }
        for chunk in pending { consume(chunk) }
        pending = []
        if !ended {
            while let chunk = try reader.next() { consume(chunk) }
        }
        outcome.bytes = size
        if let secrets {
            outcome.secrets = secrets.finish()
            if secrets.truncated {
                outcome.findings.append(ScanFindings.input("too-many-secrets", severity: .high, path: info.path,
                    title: "Secret scan of a file stopped early",
                    message: "\(info.path) holds more than \(SecretStreamScanner.maxMatchesPerFile) secret matches; the first ones are reported, the rest of the file was not examined for secrets."))
            }
        }

        let digest = hasher.map { $0.finalize().map { String(format: "%02x", $0) }.joined() }
        let mode = info.permissions.map { String(format: "%04o", $0 & 0o7777) }
        if let format, let digest {
            outcome.executable = ExecutableRecord(path: info.path, sha256: digest, size: size, format: format.format.rawValue,
                                                  arch: format.arch, linkage: format.linkage, interpreter: format.interpreter, mode: mode)
        }
        if let manifestPath = info.manifestPath, let digest {
            let kind: ManifestFile.Kind = format?.format == .elf ? .elf : format?.format == .script ? .script : .other
            outcome.manifestFile = ManifestFile(path: manifestPath, sha256: digest, size: size, mode: mode ?? "0644", kind: kind)
        }
        if let digest {
            if let reason = forbidden.reason(forName: baseName) {
                outcome.findings.append(forbiddenFinding("forbidden-name", info.path, digest,
                    "Forbidden executable \(baseName)", "\(info.path) is named like a known malicious tool: \(reason)."))
            }
            if let reason = forbidden.reason(forSHA256: digest) {
                outcome.findings.append(forbiddenFinding("forbidden-sha256", info.path, digest,
                    "Known malicious executable", "\(info.path) (sha256 \(digest)) is a known bad file: \(reason)."))
            }
        }
        for index in indicators.found.sorted() {
            let indicator = forbidden.strings[index]
            outcome.findings.append(Finding(
                id: ScanFindings.id("executable/miner-indicator", info.path, indicator.string), ruleID: "executable/miner-indicator",
                kind: .executable, severity: .high, title: "Miner or backdoor indicator",
                message: "\(info.path) contains \"\(indicator.string)\": \(indicator.reason).", location: Location(path: info.path),
                remediation: "Remove the file and find out how it got into the package.", properties: ["indicator": indicator.string]))
        }
        if tooLargeToCollect {
            outcome.findings.append(ScanFindings.input(isArchive ? "nested-archive-too-large" : "catalog-file-too-large",
                severity: .medium, path: info.path, title: "File too large to inspect",
                message: "\(info.path) (\(size) bytes) is above the \(collectLimit)-byte limit for \(isArchive ? "nested archives" : "package metadata files"); its \(isArchive ? "contents were" : "packages were") not inspected."))
        }
        if let collected {
            if !accepting.isEmpty {
                let entry = ScanEntry(path: info.path, size: size, bytes: collected)
                for cataloger in accepting {
                    let result = cataloger.packages(in: entry)
                    outcome.packages += result.packages.map { package in
                        var stamped = package
                        stamped.source = cataloger.source
                        return stamped
                    }
                    outcome.findings += result.problems
                }
            }
            if isArchive { outcome.nestedArchive = collected }
        }
    }

    private func forbiddenFinding(_ rule: String, _ path: String, _ digest: String, _ title: String, _ message: String) -> Finding {
        Finding(id: ScanFindings.id("executable/\(rule)", path, digest), ruleID: "executable/\(rule)", kind: .executable,
                severity: .critical, title: title, message: message, location: Location(path: path),
                remediation: "Remove the file, treat the build pipeline as compromised and investigate how it got there.",
                properties: ["sha256": digest])
    }
}
