// Helpers of kitsune-ship's own. The byte-string and system helpers it shares with the enforcer are
// compiled in from their sources (Shared/: symlinks to KitsunePolicyCore/Bytes.swift and
// KitsuneEnforcer/System.swift), as the enforcer compiles the policy core.
import CKitsuneSys

/// Whether `path` names an existing regular file (following symbolic links).
func isRegularFile(_ path: Bytes) -> Bool {
    var st = ks_stat_t()
    return withCPath(path) { ks_stat_path($0, &st) } == 0 && st.kind == 1
}

