import Foundation
import XCTest

/// Control 2: fileless and indirect execution (memfd, execveat, /proc/self/fd, the ELF loader,
/// interpreters fed scripts from writable places, native code mapped from writable places).
final class IndirectExecutionTests: XCTestCase {
    let f = EnforcerFixture.shared

    func assertFileless(_ technique: String, syscall: String) throws {
        let enforced = try f.enforce([], [f.attack, technique, f.tool])
        XCTAssertFalse(enforced.stdout.contains("PAYLOAD RAN"), technique)
        XCTAssertTrue(enforced.stdout.contains("ERR EACCES"), "\(technique): \(enforced.stdout)")
        let e = try XCTUnwrap(enforced.decisions("fileless").first, "\(technique): \(enforced.events)")
        XCTAssertEqual(e["action"] as? String, "blocked")
        XCTAssertEqual(e["executable"] as? String, "memfd:kitsune-test")
        XCTAssertEqual(e["syscall"] as? String, syscall)

        let audited = try f.enforce([], [f.attack, technique, f.tool], mode: "audit")
        XCTAssertTrue(audited.stdout.contains("PAYLOAD RAN"), technique)
        XCTAssertEqual(audited.decisions("fileless").first?["action"] as? String, "reported")
    }

    func testMemfdFexecve() throws { try assertFileless("memfd-exec", syscall: "execveat") }

    func testProcSelfFdExec() throws { try assertFileless("proc-fd-exec", syscall: "execve") }

    func testExecveatEmptyPathOfDroppedFile() throws {
        let r = try f.enforce([], [f.attack, "execveat-empty", f.payload])
        XCTAssertTrue(r.stdout.contains("ERR EACCES"), r.stdout)
        XCTAssertEqual(r.decisions("drift").first?["syscall"] as? String, "execveat")
        let a = try f.enforce([], [f.attack, "execveat-empty", f.payload], mode: "audit")
        XCTAssertTrue(a.stdout.contains("PAYLOAD RAN"))
    }

    func testMemfdExecIsRefusedByTheKernelWithoutTheSupervisor() throws {
        let r = try f.enforce([], [f.attack, "memfd-exec", f.tool], environment: ["KITSUNE_SIMULATE_MISSING": "unotify"])
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        XCTAssertTrue(r.stdout.contains("ERR EACCES"), r.stdout)
    }

    func testLoaderTrickIsBlockedButPackagedBinaryThroughLoaderRuns() throws {
        let cmd = ["/bin/sh", "-c", "\(f.loader) \(f.payload); echo exit=$?"]
        let r = try f.enforce([], cmd)
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        let e = try XCTUnwrap(r.decisions("loader").first, "\(r.events)")
        XCTAssertEqual(e["action"] as? String, "blocked")
        XCTAssertEqual(e["target"] as? String, f.payload)
        XCTAssertEqual(e["executable"] as? String, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")

        let audited = try f.enforce([], cmd, mode: "audit")
        XCTAssertTrue(audited.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(audited.decisions("loader").first?["action"] as? String, "reported")

        // A packaged binary that lost its executable bit, run through the loader: legitimate.
        let noexec = f.package.appendingPathComponent("bin/noexec-tool").path
        try f.install(f.tool, as: noexec, mode: 0o644)
        let legit = try f.enforce([], [f.loader, noexec])
        XCTAssertEqual(legit.status, 0, legit.stderr)
        XCTAssertEqual(legit.stdout, "PAYLOAD RAN\n")
        XCTAssertTrue(legit.decisions.isEmpty, "\(legit.decisions)")
    }

    func testLoaderWithOptionsBeforeTheTarget() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "\(f.loader) --argv0 innocent --inhibit-cache \(f.payload); echo exit=$?"])
        XCTAssertFalse(r.stdout.contains("PAYLOAD RAN"))
        XCTAssertEqual(r.decisions("loader").first?["target"] as? String, f.payload)
    }

    func testInterpreterScriptsFromWritableDirs() throws {
        let sh = f.writable.appendingPathComponent("x.sh").path
        let py = f.writable.appendingPathComponent("x.py").path
        try f.write("echo SCRIPT RAN\n", to: sh, mode: 0o644)
        try f.write("print('SCRIPT RAN')\n", to: py, mode: 0o644)
        var cases = [["/bin/sh", sh], ["/bin/bash", "-e", sh]]
        if let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            cases.append([python, "-W", "ignore", py])
        }
        for argv in cases {
            let r = try f.enforce([], argv)
            XCTAssertFalse(r.stdout.contains("SCRIPT RAN"), "\(argv)")
            XCTAssertEqual(r.decisions("interpreter_script").first?["action"] as? String, "blocked", "\(argv): \(r.events)")
            XCTAssertEqual(r.decisions("interpreter_script").first?["subject"] as? String, argv.last)
            let a = try f.enforce([], argv, mode: "audit")
            XCTAssertTrue(a.stdout.contains("SCRIPT RAN"), "\(argv)")
            XCTAssertEqual(a.decisions("interpreter_script").first?["action"] as? String, "reported")
            let off = try f.enforce(["--interpreter-scripts", "off"], argv)
            XCTAssertTrue(off.stdout.contains("SCRIPT RAN"), "\(argv)")
            XCTAssertTrue(off.decisions.isEmpty)
        }
        // A program piped in (`curl … | python3 /dev/stdin`) is a script from nowhere trusted.
        if let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            // (The writer stays alive, as `curl` does while it downloads.)
            let piped = try f.enforce([], ["/bin/sh", "-c", "(echo 'print(\"SCRIPT RAN\")'; sleep 1) | \(python) /dev/stdin; echo exit=$?"])
            XCTAssertFalse(piped.stdout.contains("SCRIPT RAN"), piped.stdout)
            XCTAssertEqual(piped.decisions("interpreter_script").first?["action"] as? String, "blocked", "\(piped.events)")
        }
        // A shell fed its program on standard input: from a pipe (`curl … | sh`) or a dropped file.
        for fed in ["(cat \(sh); sleep 1) | /bin/sh", "/bin/sh < \(sh)", "/bin/sh -s < \(sh)"] {
            let r = try f.enforce([], ["/bin/sh", "-c", "\(fed); echo exit=$?"])
            XCTAssertFalse(r.stdout.contains("SCRIPT RAN"), "\(fed): \(r.stdout)")
            XCTAssertEqual(r.decisions("interpreter_script").first?["action"] as? String, "blocked", "\(fed): \(r.events)")
        }
        // A named pipe in a writable place, fed by another process.
        let fifo = "\(f.writable.path)/ff-\(UUID().uuidString)"
        let named = try f.enforce([], ["/bin/sh", "-c", "mkfifo \(fifo); (timeout 5 cat \(sh) > \(fifo) &); /bin/sh \(fifo); echo exit=$?; timeout 5 cat \(fifo) >/dev/null; rm -f \(fifo)"])
        XCTAssertFalse(named.stdout.contains("SCRIPT RAN"), named.stdout)
        XCTAssertEqual(named.decisions("interpreter_script").first?["action"] as? String, "blocked", "\(named.events)")
        // A program the parent writes itself (a here-document, `subprocess.run([...], input=CODE)`) is
        // its own text, like `sh -c TEXT`: it runs.
        let heredoc = try f.enforce([], ["/bin/sh", "-c", "/bin/sh <<'EOF'\necho HEREDOC RAN\nEOF\n/bin/bash -s <<'EOF'\necho BASH HEREDOC RAN\nEOF"])
        XCTAssertEqual(heredoc.stdout, "HEREDOC RAN\nBASH HEREDOC RAN\n", heredoc.stderr)
        XCTAssertTrue(heredoc.decisions.isEmpty, "\(heredoc.decisions)")
        // A here-document larger than a pipe: bash keeps it in a temporary file it has already unlinked
        // (every here-document on Amazon Linux 2's bash 4.2).
        let big = "/bin/bash -c \"/bin/sh <<'EOF'\n# " + String(repeating: "y", count: 70_000) + "\necho BIG HEREDOC RAN\nEOF\""
        let large = try f.enforce([], ["/bin/sh", "-c", big])
        XCTAssertEqual(large.stdout, "BIG HEREDOC RAN\n", String(large.stderr.prefix(500)))
        XCTAssertTrue(large.decisions.isEmpty, String(describing: large.decisions).prefix(500) + "")
        if let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let fed = try f.enforce([], [python, "-c", "import subprocess; print(subprocess.run(['\(python)', '-'], input=b'print(6*7)', capture_output=True).stdout.decode().strip())"])
            XCTAssertEqual(fed.stdout, "42\n", fed.stderr)
            XCTAssertTrue(fed.decisions.isEmpty, "\(fed.decisions)")
        }
        // `python3 /tmp/pkg/` runs the directory's __main__.py.
        if let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let pkg = f.writable.appendingPathComponent("pkg-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: pkg, withIntermediateDirectories: true)
            chmod(pkg.path, 0o755)
            try f.write("print('SCRIPT RAN')\n", to: pkg.appendingPathComponent("__main__.py").path, mode: 0o644)
            let r = try f.enforce([], [python, pkg.path])
            XCTAssertFalse(r.stdout.contains("SCRIPT RAN"), r.stdout)
            XCTAssertEqual(r.decisions("interpreter_script").first?["subject"] as? String, pkg.path, "\(r.events)")
        }
        // Inline programs are not scripts from a writable place.
        let inline = try f.enforce([], ["/bin/sh", "-c", "echo inline"])
        XCTAssertEqual(inline.stdout, "inline\n")
        XCTAssertTrue(inline.decisions.isEmpty)
    }

    func testLDPreloadFromWritableDir() throws {
        let r = try f.enforce([], ["/usr/bin/env", "LD_PRELOAD=\(f.payloadLibrary)", "/bin/echo", "main"])
        XCTAssertFalse(r.stdout.contains("PAYLOAD LOADED"), r.stdout)
        XCTAssertTrue(r.stdout.contains("main"))   // the program itself still runs
        let e = try XCTUnwrap(r.decisions("drift").first { $0["syscall"] as? String == "mmap" }, "\(r.events)")
        XCTAssertEqual(e["executable"] as? String, f.payloadLibrary)
        XCTAssertEqual(e["action"] as? String, "blocked")
        let a = try f.enforce([], ["/usr/bin/env", "LD_PRELOAD=\(f.payloadLibrary)", "/bin/echo", "main"], mode: "audit")
        XCTAssertTrue(a.stdout.contains("PAYLOAD LOADED"))
    }

    func testDlopenFromWritableDir() throws {
        let r = try f.enforce([], [f.attack, "dlopen", f.payloadLibrary])
        XCTAssertFalse(r.stdout.contains("PAYLOAD LOADED"))
        XCTAssertTrue(r.stdout.contains("ERR dlopen"), r.stdout)
        XCTAssertEqual(r.decisions("drift").first?["syscall"] as? String, "mmap")
        let a = try f.enforce([], [f.attack, "dlopen", f.payloadLibrary], mode: "audit")
        XCTAssertTrue(a.stdout.contains("PAYLOAD LOADED"))
        // Libraries from trusted roots still load.
        let ok = try f.enforce([], [f.attack, "dlopen", "libm.so.6"])
        XCTAssertTrue(ok.stdout.contains("OK"), ok.stdout)
    }
}
