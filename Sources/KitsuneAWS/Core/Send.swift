import Foundation

/// One API call before signing. `path` is the wire path (segments already percent-encoded).
struct AWSOperation: Sendable {
    var service: String
    var action: String
    var method: String
    var path: String
    var query: [QueryItem] = []
    var headers: [HTTPHeader] = []
    var body: [UInt8] = []
}

extension AWSClient {
    /// Signs and sends `operation`, retrying throttling, transient errors and network failures with
    /// backoff; maps error answers to `AWSError`.
    func perform(_ operation: AWSOperation) async throws -> HTTPResponse {
        let catalog = try ServiceCatalog.bundled.get()
        let descriptor = try catalog.service(operation.service)
        let endpoint = try endpoints.resolve(service: operation.service, region: region)
        let iamAction = "\(descriptor.iamPrefix):\(operation.action)"
        let creds = try await credentials.credentials()
        if creds.isExpired(at: now()) {
            throw AWSError.expiredCredentials(source: creds.source,
                                              detail: "expired at \(ISO8601DateFormatter().string(from: creds.expiration ?? now()))")
        }
        let base = endpoint.baseURL.absoluteString
        let query = SigV4Signer.canonicalQuery(operation.query)
        guard let url = URL(string: base + operation.path + (query.isEmpty ? "" : "?" + query)),
              let host = url.host else {
            throw AWSError.invalidInput("\(operation.action): cannot build a URL from \(base) and path \(operation.path)")
        }
        let defaultPort = url.scheme == "https" ? 443 : 80
        let hostHeader = url.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        let basePath = endpoint.baseURL.path == "/" ? "" : endpoint.baseURL.path
        let signer = SigV4Signer(service: descriptor.signingName, region: endpoint.signingRegion)

        var attempt = 0
        var lastCode = ""
        while true {
            var signable = SignableRequest(method: operation.method, host: hostHeader, path: basePath + operation.path,
                                           query: operation.query, headers: operation.headers, body: operation.body)
            signer.sign(&signable, credentials: creds, date: now())
            let request = HTTPRequest(method: operation.method, url: url, headers: signable.headers, body: operation.body)
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch {
                attempt += 1
                guard attempt < retry.maxAttempts else {
                    throw AWSError.network(service: operation.service, action: operation.action, endpoint: base,
                                           detail: "\(error) (after \(attempt) attempts)")
                }
                await retry.sleep(retry.delay(afterAttempt: attempt - 1))
                continue
            }
            if (200..<300).contains(response.status) { return response }
            let (code, message) = Self.parseError(response, protocol: descriptor.protocol)
            lastCode = code
            let errors = catalog.errors
            let throttled = errors.throttling.contains(code) || errors.throttlingStatus.contains(response.status)
            let transient = errors.transient.contains(code) || errors.transientStatus.contains(response.status)
            if throttled || transient {
                attempt += 1
                guard attempt < retry.maxAttempts else {
                    if throttled {
                        throw AWSError.throttled(service: operation.service, action: operation.action,
                                                 attempts: attempt, code: lastCode)
                    }
                    throw AWSError.service(action: iamAction, status: response.status, code: code,
                                           message: message + " (after \(attempt) attempts)")
                }
                await retry.sleep(retry.delay(afterAttempt: attempt - 1))
                continue
            }
            if errors.expired.contains(code) {
                throw AWSError.expiredCredentials(source: creds.source, detail: "\(code): \(message)")
            }
            if errors.accessDenied.contains(code) || (response.status == 403 && !errors.invalidCredentials.contains(code)) {
                throw AWSError.accessDenied(action: iamAction, message: message)
            }
            if errors.invalidCredentials.contains(code) {
                throw AWSError.invalidCredentials(service: operation.service, action: operation.action, code: code,
                                                  message: message + " (credentials from \(creds.source))")
            }
            if errors.notFound.contains(code) || (response.status == 404 && code.hasPrefix("HTTP")) {
                throw AWSError.notFound(action: iamAction, message: message)
            }
            throw AWSError.service(action: iamAction, status: response.status, code: code, message: message)
        }
    }

    /// Extracts the error code and message from a JSON or XML error body (or the
    /// `x-amzn-ErrorType` header).
    static func parseError(_ response: HTTPResponse, protocol kind: String) -> (String, String) {
        func clean(_ code: String) -> String {
            var value = code
            if let colon = value.firstIndex(of: ":") { value = String(value[..<colon]) }
            if let hash = value.lastIndex(of: "#") { value = String(value[value.index(after: hash)...]) }
            return value.trimmingCharacters(in: .whitespaces)
        }
        var code = response.headers["x-amzn-errortype"].map(clean)
        var message = ""
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
            if code == nil || code?.isEmpty == true {
                code = ((object["__type"] ?? object["code"] ?? object["Code"] ?? object["Type"]) as? String).map(clean)
            }
            message = (object["message"] ?? object["Message"] ?? object["errorMessage"]) as? String ?? ""
        } else if let tree = try? XMLTree.parse(response.body) {
            if let xmlCode = tree.first("Code")?.text ?? (tree.name == "Code" ? tree.text : nil) { code = code ?? xmlCode }
            message = tree.first("Message")?.text ?? ""
        }
        if message.isEmpty, code == nil {
            message = String(decoding: response.body.prefix(200), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return (code.flatMap { $0.isEmpty ? nil : $0 } ?? "HTTP\(response.status)", message)
    }

    // MARK: protocols

    /// IAM/STS query protocol: form-encoded POST, XML answer; returns the `<Action>Result` element.
    func queryAction(service: String, action: String, parameters: [(String, String)]) async throws -> XMLTree {
        let descriptor = try ServiceCatalog.bundled.get().service(service)
        let version = descriptor.apiVersion ?? ""
        let body = AWSURIEncoding.formEncode([("Action", action), ("Version", version)] + parameters)
        let response = try await perform(AWSOperation(
            service: service, action: action, method: "POST", path: "/",
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(body.utf8)))
        let tree: XMLTree
        do { tree = try XMLTree.parse(response.body) } catch {
            throw AWSError.invalidResponse(action: "\(descriptor.iamPrefix):\(action)", detail: "\(error)")
        }
        return tree.child("\(action)Result") ?? XMLTree(name: "\(action)Result")
    }

    /// REST-JSON (Lambda): returns the raw body.
    func restJSON(service: String, action: String, method: String, path: String, query: [QueryItem] = [],
                  body: [UInt8]? = nil) async throws -> [UInt8] {
        var headers: [HTTPHeader] = []
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        let response = try await perform(AWSOperation(service: service, action: action, method: method, path: path,
                                                      query: query, headers: headers, body: body ?? []))
        return response.body
    }

    /// AWS JSON 1.0/1.1 (CloudTrail): POST with `X-Amz-Target`.
    func jsonRPC(service: String, action: String, body: [UInt8]) async throws -> [UInt8] {
        let descriptor = try ServiceCatalog.bundled.get().service(service)
        let headers = [HTTPHeader("Content-Type", "application/x-amz-json-\(descriptor.jsonVersion ?? "1.1")"),
                       HTTPHeader("X-Amz-Target", "\(descriptor.targetPrefix ?? "").\(action)")]
        let response = try await perform(AWSOperation(service: service, action: action, method: "POST", path: "/",
                                                      headers: headers, body: body))
        return response.body
    }

    /// Decodes a JSON body, with a clear error naming the action.
    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], action: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(bytes.isEmpty ? Array("{}".utf8) : bytes)) } catch {
            throw AWSError.invalidResponse(action: action, detail: "cannot decode \(T.self): \(error)")
        }
    }
}
