import Foundation
import XCTest

/// Control: attacker code that runs without any exec of a file — patching a running program through
/// `/proc/PID/mem` ("DDexec"), `personality(READ_IMPLIES_EXEC)` to slip a library past the mapping
/// check, System V shared memory mapped executable — and code handed to interpreters through their
/// environment or options (`NODE_OPTIONS=--require`, `BASH_ENV`, `PYTHONPATH`, `--rcfile`, `awk -f`).
final class CodeInjectionTests: XCTestCase {
    let f = EnforcerFixture.shared

    func testProcMemCannotBeOpenedForWritingButOrdinaryWritesWork() throws {
        let own = "\(f.writable.path)/written-\(UUID().uuidString)"
        let script = """
        \(f.attack) procmem-write; \(f.attack) procmem-write /proc/$$/mem; \(f.attack) write-file \(own)
        \(f.attack) write-file /dev/null; \(f.attack) write-file /proc/self/fd/1 >/dev/null && echo PIPE-OK
        (echo via-proc > /dev/stdout) | cat
        """
        let r = try f.enforce([], ["/bin/sh", "-c", script])
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init),
                       ["ERR EACCES", "ERR EACCES", "OK", "OK", "PIPE-OK", "via-proc"], r.stderr)
        XCTAssertEqual(r.control("process_memory_write"), "kernel")
        // The shell-only technique: dd writing into the shell's own memory.
        let dd = try f.enforce([], ["/bin/sh", "-c", "dd if=/dev/zero of=/proc/$$/mem bs=1 count=1 seek=4096 2>&1; echo rc=$?"])
        XCTAssertTrue(dd.stdout.contains("Permission denied"), dd.stdout)
        // Audit mode never blocks (and has no Landlock): the control is announced as off.
        let a = try f.enforce([], [f.attack, "procmem-write"], mode: "audit")
        XCTAssertEqual(a.stdout, "OK\n")
        XCTAssertEqual(a.control("process_memory_write"), "off")
        XCTAssertTrue((a.started?["not_enforced"] as? [String] ?? []).contains("process_memory_write"))
    }

    func testReadImpliesExecAndExecutableSharedMemoryAreNativeCode() throws {
        for (technique, syscall) in [("personality-rie", "personality"), ("shm-exec", "shmat")] {
            let r = try f.enforce([], [f.attack, technique])
            XCTAssertEqual(r.stdout, "ERR EPERM\n", technique)
            let e = try XCTUnwrap(r.decisions("native_code").first, "\(technique): \(r.events)")
            XCTAssertEqual(e["action"] as? String, "blocked")
            XCTAssertEqual(e["syscall"] as? String, syscall)
            XCTAssertEqual(e["executable"] as? String, f.attack)
            let a = try f.enforce([], [f.attack, technique], mode: "audit")
            XCTAssertEqual(a.stdout, "OK\n", technique)
            XCTAssertEqual(a.decisions("native_code").first?["action"] as? String, "reported")
        }
        // The harmless forms are not even notified.
        for technique in ["personality-query", "shm-plain"] {
            let r = try f.enforce([], [f.attack, technique])
            XCTAssertEqual(r.stdout, "OK\n", technique)
            XCTAssertTrue(r.decisions.isEmpty, "\(technique): \(r.decisions)")
        }
        // native_code: off turns the check off.
        let policy = "\(f.writable.path)/native-off-\(UUID().uuidString).yaml"
        try f.write("version: 1\nnative_code: off\n", to: policy, mode: 0o644)
        let off = try f.enforce(["--policy", policy], [f.attack, "personality-rie"])
        XCTAssertEqual(off.stdout, "OK\n")
    }

    func testCodeFromTheEnvironmentOfInterpreters() throws {
        let dir = "\(f.writable.path)/envcode-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        try f.write("console.log('INJECTED')\n", to: "\(dir)/x.js", mode: 0o644)
        try f.write("echo INJECTED\n", to: "\(dir)/x.sh", mode: 0o644)
        try f.write("print('INJECTED')\n", to: "\(dir)/evil.py", mode: 0o644)
        try f.write("BEGIN { print \"INJECTED\" }\n", to: "\(dir)/x.awk", mode: 0o644)
        try f.write("#!perl\nprint \"INJECTED\\n\";\n", to: "\(dir)/x.pl", mode: 0o644)
        var cases: [(String, [String], String)] = [
            ("NODE_OPTIONS", ["/usr/bin/env", "NODE_OPTIONS=--require=\(dir)/x.js", "/usr/bin/node", "-e", "1"], "\(dir)/x.js"),
            ("NODE_OPTIONS -r", ["/usr/bin/env", "NODE_OPTIONS=--enable-source-maps -r \(dir)/x.js", "/usr/bin/node", "-e", "1"], "\(dir)/x.js"),
            ("BASH_ENV", ["/usr/bin/env", "BASH_ENV=\(dir)/x.sh", "/bin/bash", "-c", "true"], "\(dir)/x.sh"),
            // A padded environment (one 20 kB variable first) must not hide the variable that matters.
            ("padded", ["/usr/bin/env", "PAD=" + String(repeating: "a", count: 20_000), "BASH_ENV=\(dir)/x.sh", "/bin/bash", "-c", "true"], "\(dir)/x.sh"),
            ("PYTHONPATH", ["/usr/bin/env", "PYTHONPATH=/var/nothing:\(dir)", "/usr/bin/python3", "-c", "import evil"], dir),
            ("--rcfile", ["/bin/bash", "--rcfile", "\(dir)/x.sh", "-i"], "\(dir)/x.sh"),
            ("perl -x", ["/usr/bin/perl", "-x", "\(dir)/x.pl"], "\(dir)/x.pl"),
            ("awk -f", ["/usr/bin/awk", "-f", "\(dir)/x.awk"], "\(dir)/x.awk"),
            ("awk -fFILE", ["/usr/bin/awk", "-f\(dir)/x.awk"], "\(dir)/x.awk"),
            ("perl -IDIR", ["/usr/bin/perl", "-I\(dir)", "-e", "1"], dir),
            ("NODE_OPTIONS quoted URL", ["/usr/bin/env", "NODE_OPTIONS= --require \"file://\(dir)/x.js\"", "/usr/bin/node", "-e", "1"], "\(dir)/x.js"),
        ]
        if !FileManager.default.fileExists(atPath: "/usr/bin/node") { cases.removeAll { $0.1.contains("/usr/bin/node") } }
        for (name, command, script) in cases {
            // Run from the shell so the interpreter is not the wrapped command itself.
            let quoted = command.map { "'\($0)'" }.joined(separator: " ")
            let r = try f.enforce([], ["/bin/sh", "-c", "\(quoted) </dev/null 2>&1; echo rc=$?"])
            XCTAssertFalse(r.stdout.contains("INJECTED"), "\(name): \(r.stdout.prefix(800))")
            let e = try XCTUnwrap(r.decisions("interpreter_script").first, "\(name): \(String(describing: r.events).prefix(800))")
            XCTAssertEqual(e["action"] as? String, "blocked", name)
            XCTAssertEqual(e["subject"] as? String, script, "\(name): \(e)")
        }
        // The same interpreters with code from the deployed places, or inline awk, run untouched.
        let benign = """
        NODE_PATH=\(f.package.path) PYTHONPATH=\(f.package.path) BASH_ENV= /bin/bash -c 'echo bash-ok'
        PYTHONPATH=\(f.package.path) /usr/bin/python3 -c 'print("python-ok")'
        /usr/bin/awk 'BEGIN { print "awk-ok" }'
        """
        // A long inline script (over a page, under the kernel's 128 KiB per argument) is read whole.
        let long = "\n/bin/sh -c '# " + String(repeating: "x", count: 9000) + "\necho long-ok'\n"
        let ok = try f.enforce([], ["/bin/sh", "-c", benign + long])
        XCTAssertEqual(ok.stdout, "bash-ok\npython-ok\nawk-ok\nlong-ok\n", String(ok.stderr.prefix(800)))
        XCTAssertTrue(ok.decisions.isEmpty, "\(ok.decisions)")
    }
}
