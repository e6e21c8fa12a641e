/// CKitsuneBuildInfo — what the build stamps into every Kitsune binary.
/// The commit comes from `KITSUNE_BUILD_COMMIT` in the environment of `swift build` (Package.swift
/// turns it into a C define; scripts/package sets it from git). A plain `swift build` stamps "unknown".
#pragma once

/// The git commit the binary was built from (7-40 lowercase hex digits), or "unknown".
const char *kitsune_build_commit(void);
