import ArgumentParser
import Foundation
import KitsuneContainer
import KitsunePolicy

extension DemoCommand {
    /// `kitsune demo --container`: exit 0 when enforce mode blocked the miner (and audit reported it),
    /// 1 when it did not, 2 when the demo cannot run.
    func runContainerDemo() throws {
        let modes = mode == "both" ? ["enforce", "audit"] : [mode]
        var template = Array((NSTemporaryDirectory() + "/kitsune-demo-container-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw inputError("cannot create a temporary directory") }
        let work = String(cString: made)
        defer {
            if keep { FileHandle.standardError.write(Data("kitsune demo: working directory kept at \(work)\n".utf8)) }
            else { try? FileManager.default.removeItem(atPath: work) }
        }
        let outcomes: [ContainerDemo.Outcome]
        do {
            guard let path = EnforcerBinary.locate(), let enforcer = FileManager.default.contents(atPath: path) else {
                throw ContainerError("kitsune-enforcer not found beside kitsune (swift build, or KITSUNE_ENFORCER)")
            }
            let demo = ContainerDemo(enforcer: [UInt8](enforcer), workDirectory: work)
            outcomes = try demo.run(modes: modes) { line in if !json { Self.emit(line + "\n") } }
        } catch {
            FileHandle.standardError.write(Data("kitsune demo --container: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if json {
            for o in outcomes {
                let object: [String: Any] = ["mode": o.mode, "miner_downloaded": o.minerDownloaded, "miner_ran": o.minerRan,
                                             "as_expected": o.asExpected, "events": o.events]
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
                Self.emit(String(decoding: data, as: UTF8.self) + "\n")
            }
        }
        let ok = outcomes.allSatisfy(\.asExpected)
        if !json { Self.emit(ok ? "\nAs expected.\n" : "\nNOT as expected: see the events above.\n") }
        if !ok { throw ExitCode(1) }
    }
}
