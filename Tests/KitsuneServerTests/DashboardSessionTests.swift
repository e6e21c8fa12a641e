import Foundation
import XCTest
@testable import KitsuneServer

/// The dashboard's login: an API token exchanged for a session cookie that the ordinary API accepts
/// in place of a bearer token, with CSRF protection on every write, roles kept, logout and expiry.
final class DashboardSessionTests: XCTestCase {
    /// Logs in with `token`; returns the cookie (`name=value`), its CSRF token and the raw answer.
    static func login(_ s: TestServer, _ token: String, origin: String? = nil) async throws -> (cookie: String, csrf: String, setCookie: String, status: Int) {
        var headers: [String: String] = [:]
        if let origin { headers["Origin"] = origin }
        let r = try await TestHTTP.request("POST", s.base + "/api/v1/session", body: Data(#"{"token":"\#(token)"}"#.utf8), headers: headers)
        let object = (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] ?? [:]
        let setCookie = r.headers["set-cookie"] ?? ""
        let cookie = String(setCookie.split(separator: ";").first ?? "")
        return (cookie, object["csrf_token"] as? String ?? "", setCookie, r.status)
    }

    static func call(_ s: TestServer, _ method: String, _ path: String, cookie: String, csrf: String? = nil, json: Any? = nil) async throws -> Int {
        var headers = ["Cookie": cookie]
        if let csrf { headers["X-CSRF-Token"] = csrf }
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        return try await TestHTTP.request(method, s.base + path, body: body, headers: headers).status
    }

    func testSessionCookieStandsForItsTokenAndWritesNeedCSRF() async throws {
        try await forEachBackend { s in
            let editor = try await s.store.createAPIToken(role: .editor, name: "ed", actor: "test").text
            let viewer = try await s.store.createAPIToken(role: .viewer, name: "vi", actor: "test").text
            let ed = try await Self.login(s, editor)
            XCTAssertEqual(ed.status, 201)
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
                XCTAssertTrue(ed.setCookie.contains(attribute), "Set-Cookie lacks \(attribute): \(ed.setCookie)")
            }
            XCTAssertFalse(ed.setCookie.contains("Secure"), "plain HTTP on loopback: no Secure (the browser would drop the cookie)")
            XCTAssertTrue(ed.cookie.hasPrefix("kitsune_session="))
            XCTAssertEqual(ed.csrf.count, 64)

            // Reads with the cookie alone; the session reports who and the CSRF token.
            let v1 = try await Self.call(s, "GET", "/api/v1/enforcer-groups", cookie: ed.cookie)
            XCTAssertEqual(v1, 200)
            let current = try await TestHTTP.request("GET", s.base + "/api/v1/session", headers: ["Cookie": ed.cookie])
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: current.body) as? [String: Any])
            XCTAssertEqual(object["role"] as? String, "editor")
            XCTAssertEqual(object["csrf_token"] as? String, ed.csrf)

            // A write with the cookie but no (or a wrong) CSRF token is refused, and nothing is written.
            let v2 = try await Self.call(s, "POST", "/api/v1/enforcer-groups", cookie: ed.cookie, json: ["name": "no-csrf"])
            XCTAssertEqual(v2, 403)
            let v3 = try await Self.call(s, "POST", "/api/v1/enforcer-groups", cookie: ed.cookie, csrf: String(repeating: "0", count: 64), json: ["name": "bad-csrf"])
            XCTAssertEqual(v3, 403)
            let v4 = try await Self.call(s, "POST", "/api/v1/enforcer-groups", cookie: ed.cookie, csrf: ed.csrf, json: ["name": "with-csrf"])
            XCTAssertEqual(v4, 201)
            let names = try await s.store.listGroups().map(\.name)
            XCTAssertEqual(names, ["with-csrf"])

            // A viewer's session, CSRF token and all, still cannot write; nor can it read admin-only lists.
            let vi = try await Self.login(s, viewer)
            let v5 = try await Self.call(s, "POST", "/api/v1/enforcer-groups", cookie: vi.cookie, csrf: vi.csrf, json: ["name": "viewer"])
            XCTAssertEqual(v5, 403)
            let v6 = try await Self.call(s, "GET", "/api/v1/tokens", cookie: vi.cookie)
            XCTAssertEqual(v6, 403)
            // One session's CSRF token does not work with another session's cookie.
            let v7 = try await Self.call(s, "POST", "/api/v1/enforcer-groups", cookie: ed.cookie, csrf: vi.csrf, json: ["name": "crossed"])
            XCTAssertEqual(v7, 403)

            // Only a hash of the session id is stored.
            let value = String(ed.cookie.dropFirst("kitsune_session=".count))
            let rows = try await s.store.database.query(SQLStatement("SELECT id_hash FROM sessions"))
            XCTAssertEqual(rows.count, 2)
            XCTAssertFalse(rows.contains { $0.text(0) == value }, "the session id itself is in the store")
            XCTAssertTrue(rows.contains { $0.text(0) == ServerStore.sessionHash(value) })

            // Logout needs the CSRF token; afterwards the cookie is worth nothing.
            let v8 = try await Self.call(s, "DELETE", "/api/v1/session", cookie: ed.cookie)
            XCTAssertEqual(v8, 403)
            let out = try await TestHTTP.request("DELETE", s.base + "/api/v1/session", headers: ["Cookie": ed.cookie, "X-CSRF-Token": ed.csrf])
            XCTAssertEqual(out.status, 204)
            XCTAssertTrue(out.headers["set-cookie"]?.contains("Max-Age=0") == true)
            let v9 = try await Self.call(s, "GET", "/api/v1/enforcer-groups", cookie: ed.cookie)
            XCTAssertEqual(v9, 401)

            // Revoking the token ends its sessions at once.
            let v10 = try await Self.call(s, "GET", "/api/v1/events", cookie: vi.cookie)
            XCTAssertEqual(v10, 200)
            let viewerID = String(viewer.split(separator: "_")[1])
            let v11 = try await s.store.revokeToken(viewerID, actor: "test")
            XCTAssertTrue(v11)
            let v12 = try await Self.call(s, "GET", "/api/v1/events", cookie: vi.cookie)
            XCTAssertEqual(v12, 401)

            // The audit log records logins and logouts.
            let actions = try await s.store.auditLog(limit: 100).map(\.action)
            XCTAssertTrue(actions.contains("session.login") && actions.contains("session.logout"), "\(actions)")
        }
    }

    func testLoginRefusesWhatIsNotALiveAPITokenAndCrossOriginRequests() async throws {
        try await forEachBackend { s in
            let group = try await s.group("web")
            let v13 = try await Self.login(s, group.token).status
            XCTAssertEqual(v13, 401, "an enforcer group's token cannot log in")
            let v14 = try await Self.login(s, "kit_0000000000000000_" + String(repeating: "a", count: 64)).status
            XCTAssertEqual(v14, 401)
            let v15 = try await Self.login(s, "<script>alert(1)</script>").status
            XCTAssertEqual(v15, 401)
            let cross = try await Self.login(s, s.admin, origin: "https://evil.example")
            XCTAssertEqual(cross.status, 403)
            XCTAssertTrue(cross.setCookie.isEmpty, "no cookie for a cross-origin login")
            let v16 = try await Self.login(s, s.admin, origin: s.base).status
            XCTAssertEqual(v16, 201, "the dashboard's own origin logs in")
            // A form post (not JSON) is refused: a cross-site form cannot log a browser in.
            let form = try await TestHTTP.request("POST", s.base + "/api/v1/session", body: Data("token=\(s.admin)".utf8), contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(form.status, 415)
            // Garbage cookies are a 401, not a crash or a 500.
            for junk in ["kitsune_session=", "kitsune_session=zz", "kitsune_session=" + String(repeating: "a", count: 5000), "other=1"] {
                let r = try await TestHTTP.request("GET", s.base + "/api/v1/events", headers: ["Cookie": junk])
                XCTAssertEqual(r.status, 401, String(junk.prefix(40)))
            }
            // A bearer token still works alongside, and wins over a cookie.
            let v17 = try await TestHTTP.request("GET", s.base + "/api/v1/tokens", token: s.admin, headers: ["Cookie": "kitsune_session=zz"]).status
            XCTAssertEqual(v17, 200)
        }
    }

    func testSessionsExpireAbsoluteAndIdle() async throws {
        let s = try await TestServer(.sqlite) { $0.sessions.absoluteMs = 1500 }
        do {
            let a = try await Self.login(s, s.admin)
            XCTAssertTrue(a.setCookie.contains("Max-Age=1"), a.setCookie)
            let v18 = try await Self.call(s, "GET", "/api/v1/events", cookie: a.cookie)
            XCTAssertEqual(v18, 200)
            try await Task.sleep(for: .milliseconds(1700))
            let v19 = try await Self.call(s, "GET", "/api/v1/events", cookie: a.cookie)
            XCTAssertEqual(v19, 401, "past its absolute lifetime")
        }
        await s.stop()
        // Idle: a session unused for longer than idleMs ends; one in use is kept alive.
        var policy = SessionPolicy()
        policy.idleMs = 1000
        policy.touchEveryMs = 0
        let dir = try makeTemporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await Backend.sqlite.makeStore(in: dir)
        let token = try await store.createAPIToken(role: .viewer, name: "v", actor: "t")
        let now = Timestamps.nowMs()
        let created = try await store.createSession(token: token, policy: policy, nowMs: now)
        let session = try XCTUnwrap(created)
        let v20 = try await store.session(session.id, policy: policy, nowMs: now + 900)
        XCTAssertNotNil(v20)
        let v21 = try await store.session(session.id, policy: policy, nowMs: now + 1800)
        XCTAssertNotNil(v21, "used at +900 ms: still alive at +1800")
        let v22 = try await store.session(session.id, policy: policy, nowMs: now + 2900)
        XCTAssertNil(v22, "idle for 1100 ms")
        await store.database.close()
    }
}
