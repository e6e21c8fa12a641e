import Foundation

/// A finished process.
public struct ToolOutcome: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Kitsune's JSON events among the lines of standard error (objects with an `action`).
    public var events: [[String: Any]] {
        stderr.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{"), let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  o["action"] != nil else { return nil }
            return o
        }
    }
}

/// The container tools the demo, the bench and the tests drive (umoci, runc), in one work directory.
public struct ContainerTools: Sendable {
    /// Where images, bundles and captured output go (the caller's temporary directory).
    public let workDirectory: String

    public init(workDirectory: String) { self.workDirectory = workDirectory }

    public static func which(_ tool: String) -> String? {
        for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let p = dir + "/" + tool
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Run a program to completion (killed after `timeout` seconds), capturing its output in files.
    @discardableResult
    public func run(_ argv: [String], env: [String: String] = [:], timeout: TimeInterval = 120) throws -> ToolOutcome {
        let p = Process()
        if !env.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        p.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : (Self.which(argv[0]) ?? argv[0]))
        p.arguments = Array(argv.dropFirst())
        let tag = UUID().uuidString
        let outPath = workDirectory + "/.out-" + tag, errPath = workDirectory + "/.err-" + tag
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw ContainerError("\(argv[0]): cannot be started: \(error.localizedDescription)") }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(5_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw ContainerError("\(argv.joined(separator: " ")): timed out after \(Int(timeout)) s")
        }
        p.waitUntilExit()
        return ToolOutcome(status: p.terminationStatus,
                           stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
                           stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }

    /// Run and require exit status 0.
    @discardableResult
    public func must(_ argv: [String], timeout: TimeInterval = 120) throws -> ToolOutcome {
        let r = try run(argv, timeout: timeout)
        guard r.status == 0 else { throw ContainerError("\(argv.joined(separator: " ")) exited \(r.status): \(r.stderr)\(r.stdout)") }
        return r
    }

    /// An OCI layout `NAME` (image `base`) built with umoci: a busybox-static root file system
    /// (applets as symlinks in /bin), `/usr/local/bin/hello` (an image script), `/entrypoint.sh`
    /// (`exec "$@"`), `files` (path → contents, mode 0755 when the path is in `executables`), and
    /// the given entrypoint and Cmd.
    public func busyboxImage(_ name: String, entrypoint: [String], cmd: [String], files: [String: [UInt8]] = [:],
                             executables: Set<String> = []) throws -> String {
        let layout = workDirectory + "/" + name, bundle = workDirectory + "/" + name + "-build"
        try must(["umoci", "init", "--layout", layout])
        try must(["umoci", "new", "--image", layout + ":base"])
        try must(["umoci", "unpack", "--image", layout + ":base", bundle])
        let r = bundle + "/rootfs"
        let fm = FileManager.default
        for d in ["bin", "tmp", "usr/local/bin", "data", "etc", "proc", "sys", "dev"] {
            try fm.createDirectory(atPath: r + "/" + d, withIntermediateDirectories: true)
        }
        chmod(r + "/tmp", 0o1777)
        guard let busybox = ["/bin/busybox", "/usr/bin/busybox"].first(where: { fm.fileExists(atPath: $0) }) else {
            throw ContainerError("busybox-static is not installed (scripts/setup installs it)")
        }
        try fm.copyItem(atPath: busybox, toPath: r + "/bin/busybox")
        for applet in ["sh", "ls", "cat", "cp", "chmod", "echo", "sleep", "mv", "rm", "wget", "head", "env", "true", "kill",
                       "ps", "grep", "sed", "httpd", "id", "seq"] {
            try fm.createSymbolicLink(atPath: r + "/bin/" + applet, withDestinationPath: "busybox")
        }
        var all = files
        all["/usr/local/bin/hello"] = Array("#!/bin/sh\necho hello from the image\n".utf8)
        all["/entrypoint.sh"] = Array("#!/bin/sh\nexec \"$@\"\n".utf8)
        all["/etc/passwd"] = Array("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n".utf8)
        for (path, contents) in all {
            try fm.createDirectory(atPath: (r + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard fm.createFile(atPath: r + path, contents: Data(contents)) else { throw ContainerError("\(r + path): cannot be written") }
            let executable = executables.contains(path) || path == "/usr/local/bin/hello" || path == "/entrypoint.sh"
            chmod(r + path, executable ? 0o755 : 0o644)
        }
        try must(["umoci", "repack", "--image", layout + ":base", bundle])
        var config = ["umoci", "config", "--image", layout + ":base", "--config.env", "PATH=/usr/local/bin:/usr/bin:/bin"]
        for e in entrypoint { config += ["--config.entrypoint", e] }
        for c in cmd { config += ["--config.cmd", c] }
        try must(config)
        try fm.removeItem(atPath: bundle)
        return layout
    }

    /// `umoci unpack` of `layout:tag` into a runc bundle without a terminal; `args` replaces
    /// process.args, `hostNetwork` drops the network namespace (the container shares the host's loopback).
    public func unpack(_ layout: String, tag: String = "base", id: String, args: [String]? = nil, hostNetwork: Bool = false) throws -> String {
        let bundle = workDirectory + "/bundle-" + id
        try? FileManager.default.removeItem(atPath: bundle)
        try must(["umoci", "unpack", "--image", layout + ":" + tag, bundle])
        let path = bundle + "/config.json"
        var config = try ImageJSON.object([UInt8](FileManager.default.contents(atPath: path) ?? Data()), name: path)
        var process = config["process"] as? [String: Any] ?? [:]
        process["terminal"] = false
        if let args { process["args"] = args }
        config["process"] = process
        if hostNetwork, var linux = config["linux"] as? [String: Any], let namespaces = linux["namespaces"] as? [[String: Any]] {
            linux["namespaces"] = namespaces.filter { $0["type"] as? String != "network" }
            config["linux"] = linux
        }
        try Data(try ImageJSON.bytes(config)).write(to: URL(fileURLWithPath: path))
        return bundle
    }
}
