import Foundation
import XCTest

/// Control `interpreter_script`, start-up hooks: code an interpreter reads at start from a writable
/// place without it being the program it was asked to run — `PYTHONSTARTUP`, the user site directory
/// under a writable `HOME` and its `.pth` files, the working directory first on `sys.path` (a `json.py`
/// shadowing the standard library), a virtual environment's `.pth` files, `NODE_OPTIONS=--import`,
/// `NODE_PATH`, `./node_modules` and `~/.node_modules`, `node --env-file`, `ENV`, `BASH_ENV`,
/// `PERL5LIB`, `PERL5OPT`, `RUBYOPT`, `RUBYLIB`. Real interpreters; each hook is shown to run in
/// audit mode (so the case is a real attack) and to be refused in enforce mode.
final class StartupHookTests: XCTestCase {
    let f = EnforcerFixture.shared
    let python = "/usr/bin/python3", node = "/usr/bin/node", perl = "/usr/bin/perl", ruby = "/usr/bin/ruby"

    /// One way of starting an interpreter, from a shell inside the sandbox (so that it is not the
    /// wrapped command itself), with `HOOK RAN` printed if the hook's code runs.
    struct Launch {
        var name: String
        var environment: [String] = []
        var argv: [String]
        var cwd: String?
        /// What the event must name as the code from a writable place.
        var subject = ""
    }

    /// The writable places of one test: a fresh directory beneath the fixture's /tmp stand-in.
    func scratch() throws -> String {
        let dir = "\(f.writable.path)/hooks-\(UUID().uuidString)"
        try makeDirectory(dir)
        return dir
    }

    func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var p = path
        while p.hasPrefix(f.writable.path + "/") { chmod(p, 0o755); p = (p as NSString).deletingLastPathComponent }
    }

    func put(_ text: String, _ path: String) throws {
        try makeDirectory((path as NSString).deletingLastPathComponent)
        try f.write(text, to: path, mode: 0o644)
    }

    func run(_ l: Launch, mode: String = "enforce") throws -> EnforcedRun {
        let words = ["/usr/bin/env"] + l.environment + l.argv
        let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let line = quoted.joined(separator: " ") + " </dev/null 2>&1; echo rc=$?"
        return try f.enforce([], ["/bin/sh", "-c", line], mode: mode, cwd: l.cwd)
    }

    /// Refused in enforce mode (the hook never runs), reported and run in audit mode.
    func assertRefused(_ launches: [Launch], file: StaticString = #filePath, line: UInt = #line) throws {
        for l in launches {
            let r = try run(l)
            XCTAssertFalse(r.stdout.contains("HOOK RAN"), "\(l.name): \(r.stdout.prefix(600))", file: file, line: line)
            let e = r.decisions("interpreter_script").first
            XCTAssertEqual(e?["action"] as? String, "blocked", "\(l.name): \(String(describing: r.events).prefix(800))", file: file, line: line)
            XCTAssertEqual(e?["subject"] as? String, l.subject, "\(l.name): \(String(describing: e))", file: file, line: line)
            let a = try run(l, mode: "audit")
            XCTAssertTrue(a.stdout.contains("HOOK RAN"), "\(l.name) (audit): \(a.stdout.prefix(600))", file: file, line: line)
            let reported = a.decisions("interpreter_script").first
            XCTAssertEqual(reported?["action"] as? String, "reported", "\(l.name) (audit): \(a.events)", file: file, line: line)
            XCTAssertEqual(reported?["subject"] as? String, l.subject, "\(l.name) (audit)", file: file, line: line)
        }
    }

    /// Run untouched in enforce mode: `OK` printed, no hook, no event.
    func assertUntouched(_ launches: [Launch], file: StaticString = #filePath, line: UInt = #line) throws {
        for l in launches {
            let r = try run(l)
            XCTAssertTrue(r.stdout.split(separator: "\n").contains("OK") && r.stdout.hasSuffix("rc=0\n"), "\(l.name): \(r.stdout.prefix(600))", file: file, line: line)
            XCTAssertFalse(r.stdout.contains("HOOK RAN"), "\(l.name): \(r.stdout.prefix(600))", file: file, line: line)
            XCTAssertTrue(r.decisions.isEmpty, "\(l.name): \(r.decisions)", file: file, line: line)
        }
    }

    /// `3.11` for the machine's python3 (the user site directory is named after it).
    func pythonVersion() throws -> String {
        let r = try EnforcerFixture.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testPythonStartupHooks() throws {
        let w = try scratch(), v = try pythonVersion()
        let hook = "print('HOOK RAN')\n"
        try put(hook, "\(w)/startup.py")
        let site = "\(w)/home/.local/lib/python\(v)/site-packages"
        try put("import sys; print('HOOK RAN')\n", "\(site)/hook.pth")
        try put(hook, "\(w)/shadow/json.py")
        try makeDirectory("\(w)/plainhome")
        try makeDirectory("\(w)/emptycwd")
        let venv = try EnforcerFixture.run([python, "-m", "venv", "--without-pip", "\(w)/venv"])
        XCTAssertEqual(venv.status, 0, venv.stderr)
        try put("import sys; print('HOOK RAN')\n", "\(w)/venv/lib/python\(v)/site-packages/hook.pth")
        try f.write("import json\nprint('OK')\n", to: "\(f.package.path)/app.py", mode: 0o644)
        let home = "HOME=\(w)/home"
        try assertRefused([
            Launch(name: "PYTHONSTARTUP", environment: ["PYTHONSTARTUP=\(w)/startup.py"], argv: [python, "-i"], subject: "\(w)/startup.py"),
            Launch(name: "user site .pth", environment: [home], argv: [python, "-c", "pass"], subject: site),
            Launch(name: "-E ignores PYTHONNOUSERSITE", environment: [home, "PYTHONNOUSERSITE=1"], argv: [python, "-E", "-c", "pass"], subject: site),
            Launch(name: "json.py beside -c", argv: [python, "-c", "import json"], cwd: "\(w)/shadow", subject: "\(w)/shadow"),
            Launch(name: "json.py beside -m", argv: [python, "-m", "json"], cwd: "\(w)/shadow", subject: "\(w)/shadow"),
            Launch(name: "venv .pth", argv: ["\(w)/venv/bin/python3", "-c", "pass"], subject: "\(w)/venv/pyvenv.cfg"),
        ])
        // The writable working directory is judged whatever it holds now (it can change after the exec).
        let bare = try run(Launch(name: "-c in /tmp", argv: [python, "-c", "print('OK')"], cwd: "\(w)/emptycwd"))
        XCTAssertEqual(bare.decisions("interpreter_script").first?["subject"] as? String, "\(w)/emptycwd", "\(bare.events)")
        try assertUntouched([
            // Lambda: the working directory is /var/task (the package), HOME writable but without a user site.
            Launch(name: "Lambda -c", environment: ["HOME=\(w)/plainhome", "PYTHONPATH=\(f.package.path)"],
                   argv: [python, "-c", "import json; print('OK')"]),
            Launch(name: "script from the package, cwd writable", argv: [python, "\(f.package.path)/app.py"], cwd: "\(w)/shadow"),
            Launch(name: "-P", argv: [python, "-P", "-c", "import json; print('OK')"], cwd: "\(w)/shadow"),
            Launch(name: "-I", environment: [home], argv: [python, "-I", "-c", "import json; print('OK')"], cwd: "\(w)/shadow"),
            Launch(name: "PYTHONSAFEPATH", environment: ["PYTHONSAFEPATH=1"], argv: [python, "-c", "import json; print('OK')"], cwd: "\(w)/shadow"),
            Launch(name: "-s", environment: [home], argv: [python, "-s", "-c", "print('OK')"]),
            Launch(name: "PYTHONNOUSERSITE", environment: [home, "PYTHONNOUSERSITE=1"], argv: [python, "-c", "print('OK')"]),
        ])
        // The runtime's own start (the wrapped command) keeps the working directory it was given.
        let own = try f.enforce([], [python, "-c", "print('OK')"], cwd: "\(w)/emptycwd")
        XCTAssertEqual(own.stdout, "OK\n", own.stderr)
        XCTAssertTrue(own.decisions.isEmpty, "\(own.decisions)")
    }

    func testNodeStartupHooks() throws {
        guard FileManager.default.isExecutableFile(atPath: node) else { throw toolMissing("node is not installed (scripts/setup installs nodejs)") }
        let w = try scratch()
        let hook = "console.log('HOOK RAN')\n"
        try put(hook, "\(w)/hook.mjs")
        try put(hook, "\(w)/hook.js")
        try put(hook, "\(w)/nodepath/evil/index.js")
        try put(hook, "\(w)/nodecwd/node_modules/evil/index.js")
        try put(hook, "\(w)/home/.node_modules/evil/index.js")
        try put("NODE_OPTIONS=--require \(w)/hook.js\n", "\(w)/app.env")
        try makeDirectory("\(w)/plainhome")
        try f.write("console.log('OK')\n", to: "\(f.package.path)/app.js", mode: 0o644)
        let load = [node, "-e", "require('evil')"]
        try assertRefused([
            Launch(name: "NODE_OPTIONS --import", environment: ["NODE_OPTIONS=--import \(w)/hook.mjs"], argv: [node, "-e", "1"], subject: "\(w)/hook.mjs"),
            Launch(name: "NODE_PATH", environment: ["NODE_PATH=\(w)/nodepath"], argv: load, subject: "\(w)/nodepath"),
            Launch(name: "./node_modules beside -e", argv: load, cwd: "\(w)/nodecwd", subject: "\(w)/nodecwd"),
            Launch(name: "~/.node_modules", environment: ["HOME=\(w)/home"], argv: load, subject: "\(w)/home/.node_modules"),
            Launch(name: "--env-file", argv: [node, "--env-file=\(w)/app.env", "-e", "1"], subject: "\(w)/app.env"),
        ])
        try assertUntouched([
            Launch(name: "Lambda -e", environment: ["HOME=\(w)/plainhome", "NODE_PATH=\(f.package.path)"], argv: [node, "-e", "console.log('OK')"]),
            Launch(name: "script from the package, cwd writable", argv: [node, "\(f.package.path)/app.js"], cwd: "\(w)/nodecwd"),
        ])
    }

    func testShellPerlAndRubyStartupHooks() throws {
        let w = try scratch()
        try put("echo HOOK RAN\n", "\(w)/hook.sh")
        try put("package Evil; print \"HOOK RAN\\n\"; 1;\n", "\(w)/perllib/Evil.pm")
        try put("puts 'HOOK RAN'\n", "\(w)/rubylib/evil.rb")
        var refused = [
            // dash reads ENV when interactive; bash reads BASH_ENV when not.
            Launch(name: "ENV", environment: ["ENV=\(w)/hook.sh"], argv: ["/bin/sh", "-i", "-c", "true"], subject: "\(w)/hook.sh"),
            Launch(name: "BASH_ENV", environment: ["BASH_ENV=\(w)/hook.sh"], argv: ["/bin/bash", "-c", "true"], subject: "\(w)/hook.sh"),
            Launch(name: "PERL5LIB", environment: ["PERL5LIB=\(w)/perllib"], argv: [perl, "-MEvil", "-e", "1"], subject: "\(w)/perllib"),
            Launch(name: "PERL5OPT", environment: ["PERL5OPT=-I\(w)/perllib -MEvil"], argv: [perl, "-e", "1"], subject: "\(w)/perllib"),
        ]
        var untouched = [
            Launch(name: "sh -i without ENV", argv: ["/bin/sh", "-i", "-c", "echo OK"]),
            Launch(name: "PERL5LIB in the package", environment: ["PERL5LIB=\(f.package.path)"], argv: [perl, "-e", "print qq(OK\\n)"]),
        ]
        if FileManager.default.isExecutableFile(atPath: ruby) {
            refused += [
                Launch(name: "RUBYOPT", environment: ["RUBYOPT=-r\(w)/rubylib/evil.rb"], argv: [ruby, "-e", "1"], subject: "\(w)/rubylib/evil.rb"),
                Launch(name: "RUBYLIB", environment: ["RUBYLIB=\(w)/rubylib"], argv: [ruby, "-revil", "-e", "1"], subject: "\(w)/rubylib"),
            ]
            untouched.append(Launch(name: "ruby -e", argv: [ruby, "-e", "puts 'OK'"]))
        } else {
            _ = toolMissing("ruby is not installed (scripts/setup installs it): its cases did not run")
        }
        try assertRefused(refused)
        try assertUntouched(untouched)
    }

    /// The table is data: a policy file's rule takes effect, and a malformed one is one clear line.
    func testStartupLocationsComeFromThePolicy() throws {
        let w = try scratch()
        try makeDirectory("\(w)/cwd")
        let policy = "\(w)/policy.yaml"
        try f.write("""
        version: 1
        interpreters:
          - names: [perl]
            inline: [-e]
            startup:
              - working_directory: inline
                unless: [PERL_SAFE]
        """, to: policy, mode: 0o644)
        let perlInline = "\(perl) -e 'print qq(OK\\n)'"
        let r = try f.enforce(["--policy", policy], ["/bin/sh", "-c", "\(perlInline); PERL_SAFE=1 \(perlInline)"], cwd: "\(w)/cwd")
        XCTAssertEqual(r.stdout, "OK\n", r.stderr)
        XCTAssertEqual(r.decisions("interpreter_script").count, 1, "\(r.decisions)")
        XCTAssertEqual(r.decisions("interpreter_script").first?["subject"] as? String, "\(w)/cwd")
        let bad: [(String, String)] = [
            ("- path: relative/x", "field `path`: expected an absolute path or `$VARIABLE/...`"),
            ("- path: \"$/x\"", "field `path`: expected an absolute path"),
            ("- working_directory: always", "field `working_directory`: expected `inline`"),
            ("- beside_program: /etc/x", "field `beside_program`: expected a path relative"),
            ("- unless: [-s]", "field `startup`: each start-up location has exactly one of"),
            ("- paths: /x", "field `paths`: unknown start-up field"),
        ]
        for (entry, message) in bad {
            try f.write("version: 1\ninterpreters:\n  - names: [perl]\n    startup:\n      \(entry)\n", to: policy, mode: 0o644)
            let e = try EnforcerFixture.run([f.enforcer, "--policy", policy, "--", "/bin/true"])
            XCTAssertEqual(e.status, 2, "\(entry): \(e.stderr)")
            XCTAssertTrue(e.stderr.contains("policy.yaml:5: \(message)"), "\(entry): \(e.stderr)")
            XCTAssertEqual(e.stderr.split(separator: "\n").count, 1, e.stderr)
        }
    }
}
