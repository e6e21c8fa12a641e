// The release version of every Kitsune binary (kitsune, kitsune-enforcer, kitsune-ship): the one
// place it is written. scripts/package reads it from this line to name the tarball and the .deb.

/// Kitsune's version (semantic versioning).
public let kitsuneVersion: StaticString = "0.2.0"

/// The line `--version` prints for `program`: `NAME VERSION (commit COMMIT)` and a newline, where
/// COMMIT is the git commit stamped at build time or `unknown`.
public func versionLine(program: StaticString, commit: Bytes) -> Bytes {
    Bytes(literal: program) + [32] + Bytes(literal: kitsuneVersion) + Bytes(literal: " (commit ")
        + (commit.isEmpty ? Bytes(literal: "unknown") : commit) + Bytes(literal: ")\n")
}
