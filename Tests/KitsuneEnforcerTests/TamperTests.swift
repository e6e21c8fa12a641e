import Foundation
import XCTest

/// Control 6: inheritance and tamper resistance, and what happens when the supervisor dies.
final class TamperTests: XCTestCase {
    let f = EnforcerFixture.shared

    func testProtectedProcessCannotLiftOrAttack() throws {
        for mode in ["enforce", "audit"] {
            // $PPID of the shell is the supervisor.
            let script = """
            \(f.attack) listener; \(f.attack) kill $PPID; \(f.attack) tgkill $PPID; \(f.attack) ptrace $PPID; \
            \(f.attack) pidfd-open $PPID; \(f.attack) kill-all; \(f.attack) nnp-off; \(f.attack) plain-filter
            """
            let r = try f.enforce([], ["/bin/sh", "-c", script], mode: mode)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines, ["ERR EPERM", "ERR EPERM", "ERR EPERM", "ERR EPERM", "ERR EPERM", "ERR EPERM", "ERR EINVAL", "OK"], mode)
            XCTAssertEqual(r.status, 0)
            // Each attempt on the supervisor is reported (refused in both modes); the signal-0 probe
            // `kill(-1, 0)` is refused quietly.
            let tamper = r.decisions("tamper")
            XCTAssertEqual(tamper.compactMap { ($0["argv"] as? [String])?.first?.split(separator: "(").first.map(String.init) },
                           ["kill", "tgkill", "ptrace", "pidfd_open"], "\(mode): \(r.decisions)")
            XCTAssertTrue(tamper.allSatisfy { $0["action"] as? String == "blocked" && $0["executable"] as? String == f.attack }, "\(tamper)")
        }
    }

    func testTheSidecarIsProtectedLikeTheSupervisor() throws {
        // A honeypot file makes the enforcer start its sidecar; the command reads the sidecar's pid
        // from the `started` event and attacks it.
        let events = f.writable.appendingPathComponent("sidecar-\(UUID().uuidString).jsonl").path
        let policy = f.writable.appendingPathComponent("sidecar-\(UUID().uuidString).yaml").path
        try f.write("version: 1\nhoneypot:\n  files: [\(f.writable.path)/hp-\(UUID().uuidString)/credentials]\n", to: policy, mode: 0o644)
        let script = """
        while ! grep -q sidecar_pid \(events) 2>/dev/null; do sleep 0.01; done
        pid=$(grep -o '"sidecar_pid":[0-9]*' \(events) | cut -d: -f2)
        \(f.attack) kill $pid; \(f.attack) tgkill $pid; \(f.attack) ptrace $pid; \(f.attack) pidfd-open $pid
        """
        for mode in ["enforce", "audit"] {
            let r = try f.enforce(["--events", events, "--policy", policy], ["/bin/sh", "-c", script], mode: mode, timeout: 15)
            XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init), ["ERR EPERM", "ERR EPERM", "ERR EPERM", "ERR EPERM"], "\(mode): \(r.stderr)")
            try? FileManager.default.removeItem(atPath: events)
        }
    }

    func testForeignSyscallABIIsRefused() throws {
        let r = try f.enforce([], [f.attack, "int80"])
        XCTAssertEqual(r.stdout, "ERR EPERM\n")
        XCTAssertEqual(r.decisions("syscall_abi").first?["action"] as? String, "blocked", "\(r.events)")
        // Without the supervisor the filter refuses it by itself.
        let k = try f.enforce([], [f.attack, "int80"], environment: ["KITSUNE_SIMULATE_MISSING": "unotify"])
        XCTAssertEqual(k.stdout, "ERR EPERM\n")
        let a = try f.enforce([], [f.attack, "int80"], mode: "audit")
        XCTAssertEqual(a.stdout, "OK\n")
        XCTAssertEqual(a.decisions("syscall_abi").first?["action"] as? String, "reported")
    }

    /// Kill the supervisor while the command waits on stdin, then let it try to exec.
    func runWithSupervisorKilled(mode: String, program: String? = nil) throws -> (output: String, events: String) {
        let events = f.writable.appendingPathComponent("kill-\(mode)-\(UUID().uuidString).jsonl").path
        let out = f.writable.appendingPathComponent("kill-\(mode)-\(UUID().uuidString).out").path
        let fifo = f.writable.appendingPathComponent("fifo-\(UUID().uuidString)").path
        XCTAssertEqual(mkfifo(fifo, 0o666), 0)
        chmod(fifo, 0o666)
        let script = "echo ready > \(out); read line < \(fifo); \(program ?? f.tool) && echo EXEC-ALLOWED || echo EXEC-REFUSED; echo finished"
        var args = [f.enforcer, "--mode", mode, "--events", events, "--package", f.package.path, "--", "/bin/sh", "-c", "(\(script)) >> \(out) 2>&1"]
        if f.unprivileged { args = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + args }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        try p.run()
        // Wait for the started event, then kill the supervisor (the enforcer's own pid).
        var supervisor: Int32 = 0
        for _ in 0..<500 {
            if let text = try? String(contentsOfFile: events, encoding: .utf8), let line = text.split(separator: "\n").first,
               let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let pid = obj["pid"] as? Int {
                supervisor = Int32(pid)
                break
            }
            usleep(10_000)
        }
        XCTAssertGreaterThan(supervisor, 0)
        for _ in 0..<500 where !((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("ready") { usleep(10_000) }
        kill(supervisor, SIGKILL)
        _ = EnforcerFixture.reap(p)
        let writer = open(fifo, O_WRONLY)
        _ = write(writer, "go\n", 3)
        close(writer)
        var output = ""
        for _ in 0..<500 {
            output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if output.contains("finished") { break }
            usleep(10_000)
        }
        return (output, (try? String(contentsOfFile: events, encoding: .utf8)) ?? "")
    }

    func testEnforceFailsClosedWhenTheSupervisorIsKilled() throws {
        let r = try runWithSupervisorKilled(mode: "enforce")
        XCTAssertTrue(r.output.contains("EXEC-REFUSED"), r.output)
        XCTAssertFalse(r.output.contains("PAYLOAD RAN"))
    }

    func testAuditFailsOpenWhenTheSupervisorIsKilled() throws {
        let r = try runWithSupervisorKilled(mode: "audit")
        XCTAssertTrue(r.output.contains("PAYLOAD RAN"), r.output)
        XCTAssertTrue(r.output.contains("EXEC-ALLOWED"), r.output)
        XCTAssertTrue(r.events.contains("\"reason\":\"supervisor_lost\""), r.events)
    }

    func testLearnFailsOpenWhenTheSupervisorIsKilledAndTheStandbyKeepsLearning() throws {
        let r = try runWithSupervisorKilled(mode: "learn", program: f.payload)
        XCTAssertTrue(r.output.contains("PAYLOAD RAN"), r.output)
        XCTAssertTrue(r.output.contains("EXEC-ALLOWED"), r.output)
        XCTAssertTrue(r.events.contains("\"reason\":\"supervisor_lost\""), r.events)
        let events = r.events.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let payload = URL(fileURLWithPath: f.payload).resolvingSymlinksInPath().path
        let seen = events.filter { $0["action"] as? String == "observed" && $0["executable"] as? String == payload }
        XCTAssertEqual(seen.count, 1, r.events)
        XCTAssertEqual(events.filter { $0["reason"] as? String == "drift" }.first?["action"] as? String, "reported")
    }

    func testAuditStandbyEventsCarryAncestors() throws {
        let r = try runWithSupervisorKilled(mode: "audit", program: f.payload)
        XCTAssertTrue(r.output.contains("PAYLOAD RAN"), r.output)
        let events = r.events.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let command = try XCTUnwrap(events.first?["command_pid"] as? Int)
        let drift = try XCTUnwrap(events.first { $0["reason"] as? String == "drift" }, r.events)
        XCTAssertEqual(drift["action"] as? String, "reported")
        let chain = try XCTUnwrap(drift["ancestors"] as? [[String: Any]], "\(drift)")
        // The subshell `( … )`, then the wrapped command — known to the standby, forked before it.
        XCTAssertEqual(chain.map { $0["pid"] as? Int }.last, command, "\(chain)")
        XCTAssertEqual(chain.first?["pid"] as? Int, drift["ppid"] as? Int)
    }
}
