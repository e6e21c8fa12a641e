import Foundation

/// Finds the `kitsune-enforcer` binary that ships beside `kitsune` (the project's one build leaves
/// both in the same directory), or the one named by `KITSUNE_ENFORCER`.
public enum EnforcerBinary {
    public static func locate() -> String? {
        if let explicit = ProcessInfo.processInfo.environment["KITSUNE_ENFORCER"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let candidate = me.deletingLastPathComponent().appendingPathComponent("kitsune-enforcer").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }
}
