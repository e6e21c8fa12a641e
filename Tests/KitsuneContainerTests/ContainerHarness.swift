import Foundation
import XCTest

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A finished process.
struct Outcome {
    let status: Int32
    let stdout: String
    let stderr: String
    /// The enforcer's JSON events (lines of stderr that parse as objects with an `action`).
    var events: [[String: Any]] {
        stderr.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{"), let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  o["action"] != nil else { return nil }
            return o
        }
    }
}

/// Real tools on real images: umoci to build them, runc to run them, the built kitsune binaries.
/// Everything lives beneath one mkdtemp directory, removed at the end.
final class ContainerHarness {
    let root: String
    let kitsune: String
    let ociRuntime: String

    init() throws {
        guard getuid() == 0 else { throw HarnessError("container tests need root (runc); CI runs as root") }
        for tool in ["runc", "umoci", "skopeo", "podman", "busybox"] where Self.which(tool) == nil {
            throw HarnessError("\(tool) is not installed (scripts/setup installs it)")
        }
        var template = Array((NSTemporaryDirectory() + "/kitsune-container-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        root = String(cString: made)
        chmod(root, 0o755)
        kitsune = try Self.builtProduct("kitsune")
        ociRuntime = try Self.builtProduct("kitsune-oci-runtime")
        _ = try Self.builtProduct("kitsune-enforcer")
    }

    func cleanUp() {
        // runc state of containers a failed test left behind lives in /run/runc: delete ours.
        _ = try? run(["sh", "-c", "for c in $(runc list -q 2>/dev/null | grep '^kt-'); do runc delete -f $c; done"])
        _ = try? run(["umount", "-R", root + "/podman"])
        try? FileManager.default.removeItem(atPath: root)
    }

    static func which(_ tool: String) -> String? {
        for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let p = dir + "/" + tool
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// A product built next to the test bundle (`.build/debug/NAME`).
    static func builtProduct(_ name: String) throws -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw HarnessError("\(name) not found beside the test bundle; build it first (swift build)")
    }

    /// Run a program to completion (bounded in time), capturing its output.
    @discardableResult
    func run(_ argv: [String], env: [String: String] = [:], timeout: TimeInterval = 120, cwd: String? = nil) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : (Self.which(argv[0]) ?? argv[0]))
        p.arguments = Array(argv.dropFirst())
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let tag = UUID().uuidString
        let outPath = root + "/.out-" + tag, errPath = root + "/.err-" + tag
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit(); throw HarnessError("\(argv) timed out after \(timeout) s") }
        p.waitUntilExit()
        let outData = FileManager.default.contents(atPath: outPath) ?? Data(), errData = FileManager.default.contents(atPath: errPath) ?? Data()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Run and require exit 0.
    @discardableResult
    func must(_ argv: [String], env: [String: String] = [:], timeout: TimeInterval = 120) throws -> Outcome {
        let r = try run(argv, env: env, timeout: timeout)
        guard r.status == 0 else { throw HarnessError("\(argv.joined(separator: " ")) exited \(r.status): \(r.stderr)\(r.stdout)") }
        return r
    }

    /// A static program that runs a copy of FILE from a memfd (fexecve): fileless execution.
    func memfdExec() throws -> String {
        let src = root + "/memfd.c", bin = root + "/memfd-exec"
        if FileManager.default.fileExists(atPath: bin) { return bin }
        try """
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <stdio.h>
        #include <sys/mman.h>
        #include <unistd.h>
        int main(int argc, char **argv, char **envp) {
            int in = open(argv[1], O_RDONLY), fd = memfd_create("payload", MFD_CLOEXEC);
            char buf[65536]; ssize_t n;
            if (in < 0 || fd < 0) { perror("open"); return 2; }
            while ((n = read(in, buf, sizeof buf)) > 0) if (write(fd, buf, n) != n) return 2;
            fexecve(fd, argv + 1, envp);
            perror("fexecve");
            return 126;
        }
        """.write(toFile: src, atomically: true, encoding: .utf8)
        try must(["gcc", "-static", "-O1", "-o", bin, src])
        return bin
    }

    /// An OCI layout `DIR` with image `base`: a busybox-static root file system (applets as symlinks in
    /// /bin), an image script `/usr/local/bin/hello`, a shell-script entrypoint `/entrypoint.sh`
    /// (`exec "$@"`) and the given Cmd; `extra` files are copied in (destination → source).
    func busyboxImage(_ name: String, cmd: [String], entrypoint: [String] = ["/entrypoint.sh"], extra: [String: String] = [:]) throws -> String {
        let layout = root + "/" + name
        let bundle = root + "/" + name + "-build"
        try must(["umoci", "init", "--layout", layout])
        try must(["umoci", "new", "--image", layout + ":base"])
        try must(["umoci", "unpack", "--image", layout + ":base", bundle])
        let r = bundle + "/rootfs"
        let fm = FileManager.default
        for d in ["bin", "tmp", "usr/local/bin", "data", "etc", "proc", "sys", "dev"] { try fm.createDirectory(atPath: r + "/" + d, withIntermediateDirectories: true) }
        chmod(r + "/tmp", 0o1777)
        try fm.copyItem(atPath: "/bin/busybox", toPath: r + "/bin/busybox")
        for applet in ["sh", "ls", "cat", "cp", "chmod", "echo", "sleep", "mv", "rm", "wget", "head", "env", "true", "kill", "ps", "grep", "nc", "httpd", "id"] {
            try fm.createSymbolicLink(atPath: r + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "#!/bin/sh\necho hello from the image\n".write(toFile: r + "/usr/local/bin/hello", atomically: true, encoding: .utf8)
        try "#!/bin/sh\nexec \"$@\"\n".write(toFile: r + "/entrypoint.sh", atomically: true, encoding: .utf8)
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n".write(toFile: r + "/etc/passwd", atomically: true, encoding: .utf8)
        for f in ["/usr/local/bin/hello", "/entrypoint.sh"] { chmod(r + f, 0o755) }
        for (dest, src) in extra {
            try fm.createDirectory(atPath: (r + dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try fm.copyItem(atPath: src, toPath: r + dest)
        }
        try must(["umoci", "repack", "--image", layout + ":base", bundle])
        var config = ["umoci", "config", "--image", layout + ":base", "--config.env", "PATH=/usr/local/bin:/usr/bin:/bin"]
        for e in entrypoint { config += ["--config.entrypoint", e] }
        for c in cmd { config += ["--config.cmd", c] }
        try must(config)
        try fm.removeItem(atPath: bundle)
        return layout
    }

    /// `kitsune image protect` with extra arguments.
    func protect(_ source: String, _ output: String, _ args: [String] = []) throws -> Outcome {
        try run([kitsune, "image", "protect", source, "-o", output] + args)
    }

    /// Unpack `layout:tag` into a runc bundle (no terminal) and run it; optional argv replaces process.args.
    func runc(_ layout: String, tag: String = "base", id: String, args: [String]? = nil, timeout: TimeInterval = 60) throws -> Outcome {
        let bundle = try unpack(layout, tag: tag, id: id, args: args)
        defer { _ = try? run(["runc", "delete", "-f", id]); try? FileManager.default.removeItem(atPath: bundle) }
        return try run(["runc", "run", "-b", bundle, id], timeout: timeout)
    }

    func unpack(_ layout: String, tag: String = "base", id: String, args: [String]? = nil) throws -> String {
        let bundle = root + "/bundle-" + id
        try? FileManager.default.removeItem(atPath: bundle)
        try must(["umoci", "unpack", "--image", layout + ":" + tag, bundle])
        let path = bundle + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["terminal"] = false
        if let args { process["args"] = args }
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return bundle
    }
}

extension [[String: Any]] {
    /// Events of one action (`blocked`, `reported`, `started`).
    func with(action: String) -> [[String: Any]] { filter { $0["action"] as? String == action } }
}
