import CKitsuneBuildInfo
import KitsunePolicyCore

extension Kitsune {
    /// What `kitsune --version` prints: Kitsune's version (KitsunePolicyCore/Version.swift) and the
    /// git commit stamped at build time, e.g. `kitsune 0.2.0 (commit 1a2b3c4d5e6f)`.
    static let versionText: String = {
        let line = versionLine(program: "kitsune", commit: Array(String(cString: kitsune_build_commit()).utf8))
        return String(decoding: line.dropLast(), as: UTF8.self)
    }()
}
