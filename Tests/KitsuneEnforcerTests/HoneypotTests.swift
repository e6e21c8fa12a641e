import Foundation
import XCTest

/// Honeypot credentials: decoys planted in the environment and in a file, uses reported, real
/// variables untouched, and the planted variable itself never counted as a use.
final class HoneypotTests: XCTestCase {
    let f = EnforcerFixture.shared

    /// A policy planting two decoy variables and a decoy file under the fixture's writable directory.
    func policy(file: String, extra: String = "") throws -> String {
        let path = f.writable.appendingPathComponent("honeypot-\(UUID().uuidString).yaml").path
        try f.write("""
        version: 1
        honeypot:
          env:
            AWS_BACKUP_ACCESS_KEY_ID: aws-access-key-id
            AWS_BACKUP_SECRET_ACCESS_KEY: aws-secret-access-key
            DEPLOY_TOKEN: tok-literal-canary-0123456789
          files: [\(file)]
        \(extra)
        """, to: path, mode: 0o644)
        return path
    }

    func decoyFile() -> String {
        f.writable.appendingPathComponent("hp-\(UUID().uuidString)/.aws/credentials").path
    }

    func testDecoysArePlantedAndInheritingThemIsNotAUse() throws {
        let file = decoyFile()
        let r = try f.enforce(["--policy", try policy(file: file)], ["/bin/sh", "-c", "/usr/bin/python3 -c 'import os; print(*(k + \"=\" + v for k, v in os.environ.items()), sep=\"\\n\")'; /bin/true"],
                              environment: ["AWS_ACCESS_KEY_ID": "AKIAREALKEY000000000"])
        let env = Dictionary(r.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            let kv = line.split(separator: "=", maxSplits: 1).map(String.init)
            return kv.count == 2 ? (kv[0], kv[1]) : nil
        }, uniquingKeysWith: { a, _ in a })
        let id = try XCTUnwrap(env["AWS_BACKUP_ACCESS_KEY_ID"], r.stdout)
        XCTAssertNotNil(id.range(of: "^AKIA[A-Z2-7]{16}$", options: .regularExpression), id)
        let secret = try XCTUnwrap(env["AWS_BACKUP_SECRET_ACCESS_KEY"])
        XCTAssertNotNil(secret.range(of: "^[A-Za-z0-9+/]{40}$", options: .regularExpression), secret)
        XCTAssertEqual(env["DEPLOY_TOKEN"], "tok-literal-canary-0123456789")
        XCTAssertEqual(env["AWS_ACCESS_KEY_ID"], "AKIAREALKEY000000000", "the real credentials are untouched")
        // Every exec inherits the planted variables: that alone is not a use.
        XCTAssertTrue(r.decisions("honeypot").isEmpty, "\(r.decisions)")
        // The file holds the same pair, mode 0600, in a 0700 directory.
        let content = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(content.contains("aws_access_key_id = \(id)") && content.contains("aws_secret_access_key = \(secret)"), content)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(r.started?["controls"].flatMap { ($0 as? [String: Any])?["honeypot"] as? String }, "supervisor")

        // Fresh values at every start.
        let again = try f.enforce(["--policy", try policy(file: decoyFile())], ["/bin/sh", "-c", "echo $AWS_BACKUP_ACCESS_KEY_ID"])
        XCTAssertNotEqual(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines), id)
    }

    func testUsesAreReportedInBothModesAndNeverBlocked() throws {
        for mode in ["enforce", "audit"] {
            let file = decoyFile()
            let r = try f.enforce(["--policy", try policy(file: file)], ["/bin/sh", "-c", """
                /bin/echo "exfil?k=$AWS_BACKUP_SECRET_ACCESS_KEY" >/dev/null
                X="$DEPLOY_TOKEN" /bin/true
                cat \(file) >/dev/null && echo READ-OK
                env >/dev/null; env FOO=1 /bin/true; printenv AWS_REGION >/dev/null; printenv AWS_BACKUP_SECRET_ACCESS_KEY >/dev/null
                tr '\\0' '\\n' < /proc/self/environ >/dev/null; /bin/cat /proc/self/environ >/dev/null
                """], mode: mode)
            XCTAssertTrue(r.stdout.contains("READ-OK"), "decoys are reported, never blocked: \(r.stderr)")
            let uses = r.decisions("honeypot")
            XCTAssertTrue(uses.allSatisfy { $0["action"] as? String == "reported" }, "\(uses)")
            // In the arguments (echo), in another variable (X=), a file named in the arguments (cat),
            // and the open of the file itself (inotify, with no executable).
            XCTAssertTrue(uses.contains { $0["executable"] as? String == "/usr/bin/echo" }, "\(uses)")
            XCTAssertTrue(uses.contains { ($0["executable"] as? String)?.hasSuffix("/true") == true }, "\(uses)")
            XCTAssertTrue(uses.contains { $0["executable"] as? String == "/usr/bin/cat" }, "\(uses)")
            // Dumping an environment that holds the decoys: `env` without a command, a /proc/…/environ
            // argument, `printenv DECOY_NAME`. `env FOO=1 /bin/true` and `printenv AWS_REGION` print no decoy.
            XCTAssertEqual(uses.filter { $0["executable"] as? String == "/usr/bin/env" }.count, 1, "\(uses)")
            XCTAssertEqual(uses.filter { $0["executable"] as? String == "/usr/bin/printenv" }.count, 1, "only the decoy asked by name: \(uses)")
            XCTAssertTrue(uses.contains { ($0["argv"] as? [String]) == ["/bin/cat", "/proc/self/environ"] }, "\(uses)")
            let opened = try XCTUnwrap(uses.first { $0["file"] as? String == file }, "\(uses)")
            XCTAssertEqual(opened["access"] as? String, "open")
        }
    }

    func testAnExistingFileIsWatchedButNeverReplaced() throws {
        let file = decoyFile()
        let dir = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "operator's own decoy\n".write(toFile: file, atomically: false, encoding: .utf8)
        chmod(file, 0o644)
        let r = try f.enforce(["--policy", try policy(file: file)], ["/bin/sh", "-c", "read x < \(file); echo \"$x\""])
        XCTAssertEqual(r.stdout, "operator's own decoy\n")
        XCTAssertTrue(r.decisions("honeypot").contains { $0["file"] as? String == file && $0["access"] as? String == "open" },
                      "\(r.decisions)")
        // A credentials file left by an earlier start keeps its keys, and they count as decoys.
        try "[default]\naws_access_key_id = AKIAOLDDECOY00000000\naws_secret_access_key = old/decoy/secret/0123456789abcdefghijklmn\n"
            .write(toFile: file, atomically: false, encoding: .utf8)
        let reuse = try f.enforce(["--policy", try policy(file: file)], ["/bin/sh", "-c", "/bin/echo AKIAOLDDECOY00000000 >/dev/null"])
        XCTAssertTrue(reuse.decisions("honeypot").contains { $0["executable"] as? String == "/usr/bin/echo" }, "\(reuse.decisions)")
    }

    /// Functions that empty /tmp at every invocation remove the decoy: not a use of the credentials.
    func testSweepingTheDecoyAwayIsNotReported() throws {
        let file = decoyFile()
        let dir = ((file as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let r = try f.enforce(["--policy", try policy(file: file)], ["/bin/sh", "-c", "find \(dir) -mindepth 1 -delete"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file))
        XCTAssertTrue(r.decisions("honeypot").isEmpty, "\(r.decisions)")
    }

    /// With HOME (or AWS_SHARED_CREDENTIALS_FILE) pointing at it, the function's own AWS SDK would read
    /// the decoy file: it is not planted, and naming it is not a honeypot use.
    func testAFileTheFunctionsSDKReadsIsNotADecoy() throws {
        let file = decoyFile()
        let home = ((file as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        for environment in [["HOME": home + "/"], ["AWS_SHARED_CREDENTIALS_FILE": file]] {
            let r = try f.enforce(["--policy", try policy(file: file)], ["/bin/sh", "-c", "cat \(file) 2>/dev/null; echo done"],
                                  environment: environment)
            XCTAssertEqual(r.stdout, "done\n", "\(environment)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: file), "\(environment)")
            XCTAssertTrue(r.stderr.contains("honeypot file \(file) not planted: the function's AWS SDK reads it"), r.stderr)
            XCTAssertTrue(r.decisions("honeypot").isEmpty, "\(r.decisions)")
        }
    }

    func testASymlinkAtTheDecoyPathIsNotFollowed() throws {
        let target = f.writable.appendingPathComponent("victim-\(UUID().uuidString)").path
        let file = decoyFile()
        let dir = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: target)
        _ = try f.enforce(["--policy", try policy(file: file)], ["/bin/true"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "the decoy was written through a symlink")
    }

    func testTheCollectorTokenIsNotGivenToTheCommandAndBadURLsAreRefused() throws {
        let r = try f.enforce([], ["/bin/sh", "-c", "echo token=${KITSUNE_EVENTS_TOKEN:-absent} url=$KITSUNE_EVENTS_URL"],
                              environment: ["KITSUNE_EVENTS_URL": "http://127.0.0.1:9/e", "KITSUNE_EVENTS_TOKEN": "secret-token",
                                            "KITSUNE_EVENTS_TIMEOUT_MS": "200"])
        XCTAssertEqual(r.stdout, "token=absent url=http://127.0.0.1:9/e\n")
        XCTAssertEqual(r.status, 0)
        for (url, why) in [("ftp://c.example.com/", "must start with http:// or https://"), ("http://user:pw@c/", "no user:password@"),
                           ("http://c:0/", "bad port"), ("http:///x", "needs a host")] {
            let bad = try f.enforce([], ["/bin/echo", "SHOULD NOT RUN"], environment: ["KITSUNE_EVENTS_URL": url])
            XCTAssertEqual(bad.status, 2, url)
            XCTAssertEqual(bad.stdout, "", url)
            XCTAssertTrue(bad.stderr.contains("KITSUNE_EVENTS_URL=\(url): ") && bad.stderr.contains(why), bad.stderr)
        }
    }

    func testHTTPSWithoutTheHelperIsRefusedAtStart() throws {
        // An enforcer copied alone, without kitsune-ship beside it.
        let alone = f.writable.appendingPathComponent("alone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: alone, withIntermediateDirectories: true)
        chmod(alone.path, 0o755)
        let copy = alone.appendingPathComponent("kitsune-enforcer").path
        try FileManager.default.copyItem(atPath: f.enforcer, toPath: copy)
        let r = try EnforcerFixture.run([copy, "--", "/bin/echo", "SHOULD NOT RUN"], environment: ["KITSUNE_EVENTS_URL": "https://c.example.com/e"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("https needs the kitsune-ship helper next to the enforcer"), r.stderr)
    }

    func testBadHoneypotPolicyIsRefused() throws {
        let path = f.writable.appendingPathComponent("bad-honeypot.yaml").path
        try f.write("version: 1\nhoneypot:\n  env:\n    BAD-NAME: aws-access-key-id\n", to: path, mode: 0o644)
        let r = try f.enforce(["--policy", path], ["/bin/echo", "SHOULD NOT RUN"])
        XCTAssertEqual(r.status, 2)
        XCTAssertFalse(r.stdout.contains("SHOULD NOT RUN"))
        XCTAssertTrue(r.stderr.contains("bad-honeypot.yaml:4") && r.stderr.contains("letters, digits"), r.stderr)
    }
}
