import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import XCTest
@testable import KitsuneServer

/// Which store a test runs against: every API test runs against both.
enum Backend: String, CaseIterable {
    case sqlite, postgres

    /// A fresh, migrated store.
    func makeStore(in directory: String) async throws -> ServerStore {
        switch self {
        case .sqlite: return try await ServerStore.open(data: directory + "/data", databaseURL: nil)
        case .postgres: return try await ServerStore.open(data: directory, databaseURL: try PostgresCluster.newDatabase())
        }
    }
}

/// A `kitsune server` on a loopback port, in this process, with an admin token.
final class TestServer: @unchecked Sendable {
    let backend: Backend
    let store: ServerStore
    let plane: ControlPlane
    let port: Int
    let admin: String
    let directory: String
    private let task: Task<Void, any Error>
    private let services: ServiceGroup

    var base: String { "http://127.0.0.1:\(port)" }

    init(_ backend: Backend, connector: (any AccountConnector)? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }) async throws {
        self.backend = backend
        directory = try makeTemporaryDirectory()
        store = try await backend.makeStore(in: directory)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        plane = ControlPlane(configuration: configuration, store: store, connector: connector)
        admin = try await store.createAPIToken(role: .admin, name: "test admin", actor: "test").text
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try plane.application { port in continuation.yield(port) }
        // As `kitsune server` runs it (a service group), minus the signal handlers: stop() shuts it
        // down gracefully, as SIGTERM would.
        let services = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: Logger(label: "test")))
        self.services = services
        task = Task { try await services.run() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the server did not start") }
        self.port = port
    }

    /// Shuts the server down (gracefully: its tests' connections are all closed by then) and waits for
    /// it; a server that does not stop within 20 s fails the test instead of hanging the suite.
    func stop(file: StaticString = #filePath, line: UInt = #line) async {
        await services.triggerGracefulShutdown()
        let stopped = Mutex(false)
        let task = self.task
        Task { _ = try? await task.value; stopped.withLock { $0 = true } }
        let deadline = ContinuousClock.now + .seconds(20)
        while !stopped.withLock({ $0 }) && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if !stopped.withLock({ $0 }) { XCTFail("[\(backend.rawValue)] the server did not shut down within 20 s", file: file, line: line) }
        await store.database.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One HTTP exchange: status, headers, body.
    func request(_ method: String, _ path: String, token: String? = nil, body: Data? = nil,
                 contentType: String = "application/json") async throws -> (status: Int, headers: [String: String], body: Data) {
        try await TestHTTP.request(method, base + path, token: token, body: body, contentType: contentType)
    }

    /// A request whose answer is JSON; returns the status and the decoded object.
    func json(_ method: String, _ path: String, token: String? = nil, body: Any? = nil) async throws -> (status: Int, object: [String: Any]) {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let r = try await request(method, path, token: token ?? admin, body: data)
        let object = (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] ?? [:]
        return (r.status, object)
    }

    /// A new enforcer group; returns its id and token.
    func group(_ name: String = "group-\(UUID().uuidString.prefix(8))") async throws -> (id: String, token: String) {
        let r = try await json("POST", "/api/v1/enforcer-groups", body: ["name": name])
        guard r.status == 201, let id = r.object["id"] as? String, let token = r.object["token"] as? String else {
            throw TestFailure("creating a group answered \(r.status) \(r.object)")
        }
        return (id, token)
    }

    /// Posts `events` (JSON objects) with `token`.
    func post(_ events: [[String: Any]], token: String) async throws -> (status: Int, object: [String: Any]) {
        let r = try await request("POST", "/api/v1/events", token: token, body: try JSONSerialization.data(withJSONObject: events))
        return (r.status, (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] ?? [:])
    }

    /// `GET /api/v1/events?…` → the events.
    func events(_ query: String = "") async throws -> [[String: Any]] {
        let r = try await json("GET", "/api/v1/events" + (query.isEmpty ? "" : "?" + query))
        guard r.status == 200 else { throw TestFailure("listing events answered \(r.status) \(r.object)") }
        return r.object["events"] as? [[String: Any]] ?? []
    }
}

/// Runs `body` against a fresh server on each backend.
func forEachBackend(connector: (any AccountConnector)? = nil, configure: (inout ServerConfiguration) -> Void = { _ in },
                    _ body: (TestServer) async throws -> Void) async throws {
    for backend in Backend.allCases {
        let server = try await TestServer(backend, connector: connector, configure: configure)
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw TestFailure("[\(backend.rawValue)] \(error)")
        }
        await server.stop()
    }
}

func makeTemporaryDirectory() throws -> String {
    guard let made = mkdtemp(strdup(NSTemporaryDirectory() + "/kitsune-server-test-XXXXXX")) else { throw TestFailure("mkdtemp failed") }
    return String(cString: made)
}

/// A new SQLite store in a temporary directory (the caller removes it), after `setup` ran on it.
func temporarySQLiteStore(_ setup: String) async throws -> (SQLiteDatabase, String) {
    let dir = try makeTemporaryDirectory()
    let database = try SQLiteDatabase(directory: dir)
    _ = try await database.query(SQLStatement(setup))
    return (database, dir)
}

/// An enforcer-like event.
func sampleEvent(_ fields: [String: Any] = [:]) -> [String: Any] {
    var e: [String: Any] = ["time": "2026-12-01T10:00:00.000Z", "mode": "enforce", "action": "blocked", "reason": "drift",
                            "reasons": ["drift"], "executable": "/tmp/m", "argv": ["/tmp/m", "--pool", "x"], "pid": 42, "ppid": 7,
                            "function_name": "api", "region": "eu-west-1", "account_id": "123456789012"]
    for (k, v) in fields { e[k] = v }
    return e
}

// XCTAssert's autoclosures cannot await: these evaluate their arguments first.
func assertEqual<T: Equatable>(_ a: T, _ b: T, _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a, b, message(), file: file, line: line)
}
func assertTrue(_ a: Bool, _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(a, message(), file: file, line: line)
}
func assertFalse(_ a: Bool, _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(a, message(), file: file, line: line)
}
func assertNil(_ a: Any?, _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNil(a, message(), file: file, line: line)
}
