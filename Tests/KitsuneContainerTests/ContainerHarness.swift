import Foundation
import KitsuneContainer
import XCTest

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

typealias Outcome = ToolOutcome

/// Real tools on real images: umoci to build them, runc to run them, the built kitsune binaries.
/// Everything lives beneath one mkdtemp directory, removed at the end.
final class ContainerHarness {
    let root: String
    let kitsune: String
    let ociRuntime: String
    var tools: ContainerTools { ContainerTools(workDirectory: root) }

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

    static func which(_ tool: String) -> String? { ContainerTools.which(tool) }

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
    func run(_ argv: [String], env: [String: String] = [:], timeout: TimeInterval = 120) throws -> Outcome {
        try tools.run(argv, env: env, timeout: timeout)
    }

    /// Run and require exit 0.
    @discardableResult
    func must(_ argv: [String], env: [String: String] = [:], timeout: TimeInterval = 120) throws -> Outcome {
        try tools.must(argv, timeout: timeout)
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

    /// A busybox-static OCI layout (see ContainerTools.busyboxImage); `extra` copies host files in.
    func busyboxImage(_ name: String, cmd: [String], entrypoint: [String] = ["/entrypoint.sh"], extra: [String: String] = [:]) throws -> String {
        var files: [String: [UInt8]] = [:]
        for (dest, src) in extra { files[dest] = [UInt8](FileManager.default.contents(atPath: src) ?? Data()) }
        return try tools.busyboxImage(name, entrypoint: entrypoint, cmd: cmd, files: files, executables: Set(extra.keys))
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
        try tools.unpack(layout, tag: tag, id: id, args: args)
    }
}

extension [[String: Any]] {
    /// Events of one action (`blocked`, `reported`, `started`).
    func with(action: String) -> [[String: Any]] { filter { $0["action"] as? String == action } }
}
