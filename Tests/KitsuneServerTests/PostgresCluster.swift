import Foundation
import XCTest

/// A throwaway PostgreSQL 15 cluster for the tests: `initdb` in a temporary directory, run as the
/// `postgres` user, listening on loopback only. Started once per test process (each test gets a
/// database of its own) and stopped when the process exits.
enum PostgresCluster {
    struct Running {
        let directory: String
        let port: Int
        let bin: String
    }

    private static let lock = NSRecursiveLock()
    nonisolated(unsafe) private static var running: Running?
    nonisolated(unsafe) private static var failure: String?

    /// The cluster, started on first use.
    static func shared() throws -> Running {
        lock.lock()
        defer { lock.unlock() }
        if let running { return running }
        if let failure { throw TestFailure(failure) }
        do {
            let r = try start()
            running = r
            atexit {
                if let r = PostgresCluster.running {
                    _ = try? PostgresCluster.run(["/usr/sbin/runuser", "-u", "postgres", "--", r.bin + "/pg_ctl", "-D", r.directory + "/data", "-m", "immediate", "stop"])
                    try? FileManager.default.removeItem(atPath: r.directory)
                }
            }
            return r
        } catch {
            failure = "\(error)"
            throw error
        }
    }

    /// A new empty database on the shared cluster; its `postgres://` URL.
    static func newDatabase() throws -> String {
        let cluster = try shared()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try run(["/usr/sbin/runuser", "-u", "postgres", "--", cluster.bin + "/psql", "-h", "127.0.0.1", "-p", "\(cluster.port)",
                     "-U", "kitsune", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"])
        return "postgres://kitsune@127.0.0.1:\(cluster.port)/\(name)?sslmode=disable"
    }

    /// Stops (`immediate`: as if it crashed) or starts the shared cluster: tests of outages.
    static func control(_ action: String) throws {
        let c = try shared()
        var argv = ["/usr/sbin/runuser", "-u", "postgres", "--", c.bin + "/pg_ctl", "-D", c.directory + "/data", "-w", "-l", c.directory + "/log"]
        argv += action == "stop" ? ["-m", "immediate", "stop"] : ["-o", "-p \(c.port) -k \(c.directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start"]
        _ = try run(argv)
    }

    private static func start() throws -> Running {
        let candidates = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
        guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }) else {
            throw TestFailure("PostgreSQL is not installed (apt-get install postgresql-15; scripts/setup does it)")
        }
        let dir = try XCTUnwrap(mkdtemp(strdup(NSTemporaryDirectory() + "/kitsune-pg-XXXXXX")).map { String(cString: $0) })
        _ = try run(["/bin/chown", "postgres:postgres", dir])
        _ = try run(["/usr/sbin/runuser", "-u", "postgres", "--", bin + "/initdb", "-D", dir + "/data", "-A", "trust", "-U", "kitsune", "--no-sync"])
        let port = try freePort()
        let r = Running(directory: dir, port: port, bin: bin)
        running = r
        try control("start")
        return r
    }

    /// Runs `argv` to its end (posix_spawn + waitpid: Foundation's Process can miss the exit of a
    /// child whose grandchild, the postmaster, lives on). Output goes to a file, read afterwards, so
    /// no pipe is held open by the server `pg_ctl` leaves running.
    @discardableResult
    static func run(_ argv: [String], capture: Bool = true) throws -> String {
        let (status, text) = try execute(argv, capture: capture)
        guard status == 0 else { throw TestFailure("\(argv.joined(separator: " ")) failed (exit \(status)): \(text)") }
        return text
    }

    /// Runs `argv` to its end: its exit status (128 + N for signal N) and its stdout+stderr.
    static func execute(_ argv: [String], capture: Bool = true) throws -> (status: Int32, output: String) {
        let outPath = capture ? NSTemporaryDirectory() + "/kitsune-pg-out-\(UUID().uuidString)" : "/dev/null"
        defer { if capture { unlink(outPath) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // In /tmp: the postgres user may not enter the test's working directory.
        let cArgs = (["/bin/sh", "-c", "cd /tmp && exec \"$0\" \"$@\""] + argv).map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, cArgs, environ)
        guard spawned == 0 else { throw TestFailure("\(argv[0]): posix_spawn failed (\(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = capture ? ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") : ""
        let signal = status & 0x7f
        return (signal == 0 ? (status >> 8) & 0xff : 128 + signal, text)
    }

    /// A loopback port nobody listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw TestFailure("cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
