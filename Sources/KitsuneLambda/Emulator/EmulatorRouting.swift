import Foundation

/// The Runtime API (`/2018-06-01`) and Extensions API (`/2020-01-01`) handlers.
extension LambdaEmulator {
    static let runtimePrefix = "/2018-06-01/runtime/"
    static let extensionPrefix = "/2020-01-01/extension/"
    static let accepted = HTTPResponse.json(202, ["status": "OK"])

    func handle(_ event: HTTPServerEvent) {
        switch event {
        case .request(let connection, let request):
            route(request, connection)
        case .refused(let connection, let status, _, let path):
            forget(connection)
            if status == 413, var inv = current, inv.delivered, inv.response == nil,
               path == "\(Self.runtimePrefix)invocation/\(inv.id)/response" || path == "\(Self.runtimePrefix)invocation/\(inv.id)/error" {
                // Lambda: the invocation fails, the runtime carries on.
                inv.response = Self.errorDocument("Function.ResponseSizeTooLarge",
                                                  "Response payload size exceeded maximum allowed payload size (\(Self.maxPayloadBytes) bytes).")
                inv.functionErrorType = "Function.ResponseSizeTooLarge"
                current = inv
            }
        case .closed(let connection):
            forget(connection)
        }
    }

    private func forget(_ connection: Int) {
        if runtimeWaiting == connection { runtimeWaiting = nil }
        for (id, ext) in extensions where ext.waiting == connection { extensions[id]?.waiting = nil }
    }

    func route(_ request: HTTPRequest, _ connection: Int) {
        let path = request.path
        if path.hasPrefix(Self.runtimePrefix) {
            routeRuntime(String(path.dropFirst(Self.runtimePrefix.count)), request, connection)
        } else if path.hasPrefix(Self.extensionPrefix) {
            routeExtension(String(path.dropFirst(Self.extensionPrefix.count)), request, connection)
        } else {
            server.send(.error(404, type: "NotFound", message: "no such API path \(path) (Runtime API: \(Self.runtimePrefix)..., Extensions API: \(Self.extensionPrefix)...)"), on: connection)
        }
    }

    private func methodCheck(_ request: HTTPRequest, _ expected: String, _ connection: Int) -> Bool {
        if request.method == expected { return true }
        server.send(.error(405, type: "MethodNotAllowed", message: "\(request.method) \(request.path): use \(expected)"), on: connection)
        return false
    }

    // MARK: Runtime API

    private func routeRuntime(_ rest: String, _ request: HTTPRequest, _ connection: Int) {
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts == ["invocation", "next"] {
            guard methodCheck(request, "GET", connection) else { return }
            runtimeWaiting = connection
            deliverPending()
        } else if parts == ["init", "error"] {
            guard methodCheck(request, "POST", connection) else { return }
            guard phase == .initializing else {
                server.send(.error(403, type: "InvalidStateTransition", message: "init/error is only accepted during the init phase"), on: connection)
                return
            }
            let body = Data(request.body)
            let type = request.header("Lambda-Runtime-Function-Error-Type") ?? Self.errorType(in: body) ?? "Runtime.Unknown"
            initFailure = (type, Self.isJSONObject(body) ? body : Self.errorDocument(type, String(decoding: body, as: UTF8.self)))
            server.send(Self.accepted, on: connection)
        } else if parts.count == 3, parts[0] == "invocation", parts[2] == "response" || parts[2] == "error" {
            guard methodCheck(request, "POST", connection) else { return }
            guard var inv = current, inv.id == parts[1], inv.delivered else {
                server.send(.error(400, type: "InvalidRequestID", message: "Invalid request ID \(parts[1])"), on: connection)
                return
            }
            guard inv.response == nil else {
                server.send(.error(403, type: "InvalidStateTransition", message: "invocation \(inv.id) already has a response"), on: connection)
                return
            }
            let body = Data(request.body)
            if parts[2] == "response" {
                inv.response = body
            } else {
                let type = request.header("Lambda-Runtime-Function-Error-Type") ?? Self.errorType(in: body) ?? "Unhandled"
                inv.response = Self.isJSONObject(body) ? body : Self.errorDocument(type, String(decoding: body, as: UTF8.self))
                inv.functionErrorType = type
            }
            current = inv
            server.send(Self.accepted, on: connection)
        } else {
            server.send(.error(404, type: "NotFound", message: "unknown Runtime API path \(request.path)"), on: connection)
        }
    }

    /// Hands the current invocation to a waiting runtime and INVOKE to subscribed extensions.
    func deliverPending() {
        guard var inv = current, !inv.delivered, phase == .ready, let connection = runtimeWaiting else { return }
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", inv.id),
            ("Lambda-Runtime-Deadline-Ms", String(inv.deadlineMs)),
            ("Lambda-Runtime-Invoked-Function-Arn", configuration.functionARN),
            ("Lambda-Runtime-Trace-Id", inv.traceID),
        ]
        if let cc = inv.request.clientContext { headers.append(("Lambda-Runtime-Client-Context", cc)) }
        if let ci = inv.request.cognitoIdentity { headers.append(("Lambda-Runtime-Cognito-Identity", ci)) }
        runtimeWaiting = nil
        inv.delivered = true
        current = inv
        server.send(HTTPResponse(status: 200, headers: headers, body: [UInt8](inv.request.payload)), on: connection)
        let invokeEvent: [String: Any] = [
            "eventType": "INVOKE", "deadlineMs": inv.deadlineMs, "requestId": inv.id,
            "invokedFunctionArn": configuration.functionARN,
            "tracing": ["type": "X-Amzn-Trace-Id", "value": inv.traceID],
        ]
        for (id, ext) in extensions where ext.events.contains("INVOKE") {
            extensions[id]?.busy = true
            sendEvent(invokeEvent, to: id)
        }
    }

    // MARK: Extensions API

    private func routeExtension(_ rest: String, _ request: HTTPRequest, _ connection: Int) {
        if rest == "register" {
            guard methodCheck(request, "POST", connection) else { return }
            register(request, connection)
            return
        }
        guard ["event/next", "init/error", "exit/error"].contains(rest) else {
            server.send(.error(404, type: "NotFound", message: "unknown Extensions API path \(request.path)"), on: connection)
            return
        }
        guard let id = request.header("Lambda-Extension-Identifier"), extensions[id] != nil else {
            server.send(.error(403, type: "Extension.UnknownExtensionIdentifier",
                               message: "missing or unknown Lambda-Extension-Identifier header (register first)"), on: connection)
            return
        }
        if rest == "event/next" {
            guard methodCheck(request, "GET", connection) else { return }
            extensions[id]?.waiting = connection
            extensionAskedNext(id)
        } else {
            guard methodCheck(request, "POST", connection) else { return }
            let body = Data(request.body)
            let type = request.header("Lambda-Extension-Function-Error-Type") ?? Self.errorType(in: body) ?? "Extension.Unknown"
            let name = extensions[id]?.name ?? id
            if rest == "init/error", phase == .initializing {
                initFailure = (type, Self.errorDocument(type, "Extension \(name) reported an init error"))
            } else if !shuttingDown {
                sandboxFailure = sandboxFailure ?? (type, "Extension \(name) reported an error and is exiting")
            }
            server.send(Self.accepted, on: connection)
        }
    }

    private func register(_ request: HTTPRequest, _ connection: Int) {
        guard let name = request.header("Lambda-Extension-Name"), !name.isEmpty else {
            server.send(.error(400, type: "InvalidRequest", message: "missing Lambda-Extension-Name header"), on: connection)
            return
        }
        guard phase == .initializing else {
            server.send(.error(403, type: "Extension.RegistrationFailed", message: "extensions can only register during the init phase"), on: connection)
            return
        }
        let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
        guard let events = object?["events"] as? [String], events.allSatisfy({ $0 == "INVOKE" || $0 == "SHUTDOWN" }) else {
            server.send(.error(400, type: "InvalidRequest", message: "body must be {\"events\": [\"INVOKE\"|\"SHUTDOWN\", ...]}"), on: connection)
            return
        }
        let id = UUID().uuidString.lowercased()
        extensions[id] = ExtensionState(name: name, events: Set(events))
        server.send(.json(200, ["functionName": configuration.functionName, "functionVersion": "$LATEST",
                                "handler": configuration.handler, "accountId": configuration.accountId],
                          headers: [("Lambda-Extension-Identifier", id)]), on: connection)
    }

    /// An extension is back in /event/next: it finished its previous event.
    private func extensionAskedNext(_ id: String) {
        guard var ext = extensions[id] else { return }
        if let pending = ext.pendingEvent {
            ext.pendingEvent = nil
            extensions[id] = ext
            deliver(pending, to: id)
            return
        }
        ext.busy = false
        if ext.shutdownSent { ext.shutdownDone = true }
        extensions[id] = ext
        if shuttingDown, ext.events.contains("SHUTDOWN"), !ext.shutdownSent, let reason = shutdownReason {
            extensions[id]?.shutdownSent = true
            sendEvent(["eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": shutdownDeadlineMs], to: id)
        }
    }

    /// Sends `event` to extension `id` now if it waits, else when it next asks.
    func sendEvent(_ event: [String: Any], to id: String) {
        let body = (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
        if extensions[id]?.waiting != nil { deliver(body, to: id) } else { extensions[id]?.pendingEvent = body }
    }

    private func deliver(_ body: Data, to id: String) {
        guard let connection = extensions[id]?.waiting else { return }
        extensions[id]?.waiting = nil
        server.send(HTTPResponse(status: 200, headers: [("Content-Type", "application/json"),
                                                        ("Lambda-Extension-Event-Identifier", UUID().uuidString.lowercased())],
                                 body: [UInt8](body)), on: connection)
    }

    // MARK: Error documents

    static func errorDocument(_ type: String, _ message: String) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["errorType": type, "errorMessage": message], options: [.sortedKeys])) ?? Data()
    }

    static func isJSONObject(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
    }

    static func errorType(in data: Data) -> String? {
        ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["errorType"] as? String
    }
}
