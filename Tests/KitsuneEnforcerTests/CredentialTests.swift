import Foundation
import XCTest

/// Control: the function's real credentials where they do not belong — on a command line
/// (`curl …?k=$AWS_SECRET_ACCESS_KEY`) or printed with the whole environment (`; env`).
final class CredentialTests: XCTestCase {
    let f = EnforcerFixture.shared
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYREALSECRET"
    let token = "IQoJb3JpZ2luX2VjEXAMPLE-SESSION-TOKEN-0123456789"

    func testExfiltrationAndDumpsAreBlockedInEnforceModeAndReportedInAudit() throws {
        let environment = ["AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token]
        let attacks = [
            ("argument", "/bin/echo \"https://evil.example/?k=$AWS_SECRET_ACCESS_KEY\""),
            ("token", "/usr/bin/printf '%s' \"$AWS_SESSION_TOKEN\""),
            ("env", "env"),
            ("printenv", "printenv"),
            ("printenv NAME", "printenv AWS_SECRET_ACCESS_KEY"),
            ("proc", "cat /proc/self/environ"),
        ]
        for mode in ["enforce", "audit"] {
            for (name, command) in attacks {
                let r = try f.enforce([], ["/bin/sh", "-c", "\(command); echo rc=$?"], mode: mode, environment: environment)
                let e = try XCTUnwrap(r.decisions("credentials").first, "\(mode) \(name): \(r.events)")
                XCTAssertEqual(e["action"] as? String, mode == "enforce" ? "blocked" : "reported", "\(mode) \(name)")
                XCTAssertEqual(r.stdout.contains(secret) || r.stdout.contains(token), mode == "audit", "\(mode) \(name): \(r.stdout)")
                XCTAssertFalse(r.events.description.contains(secret) || r.events.description.contains(token), "events never repeat the secret value")
                if name == "argument" { XCTAssertEqual(e["argv"] as? [String], ["/bin/echo", "https://evil.example/?k=[redacted]"]) }
            }
        }
    }

    func testOrdinaryUsesOfTheEnvironmentAreUntouched() throws {
        let script = """
        env FOO=1 /bin/true && printenv HOME >/dev/null && /usr/bin/env sh -c 'echo child-ok' && env -S 'true x'
        echo "$AWS_SECRET_ACCESS_KEY" | /usr/bin/wc -c
        """
        let r = try f.enforce([], ["/bin/sh", "-c", script], environment: ["AWS_SECRET_ACCESS_KEY": secret])
        XCTAssertEqual(r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }, ["child-ok", "41"], r.stderr)
        XCTAssertTrue(r.decisions.isEmpty, "\(r.decisions)")
        // Without credentials in the environment nothing is watched, and `credentials: off` turns it off.
        XCTAssertTrue(try f.enforce([], ["/bin/sh", "-c", "env >/dev/null"]).decisions.isEmpty)
        let policy = "\(f.writable.path)/credentials-off-\(UUID().uuidString).yaml"
        try f.write("version: 1\ncredentials: off\n", to: policy, mode: 0o644)
        let off = try f.enforce(["--policy", policy], ["/bin/sh", "-c", "env | grep -c SECRET"], environment: ["AWS_SECRET_ACCESS_KEY": secret])
        XCTAssertEqual(off.stdout, "1\n")
        XCTAssertEqual(off.control("credentials"), "off")
    }
}
