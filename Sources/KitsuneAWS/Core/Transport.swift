import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fully built HTTP request (signed, ready to send).
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(method: String, url: URL, headers: [HTTPHeader], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The seam between the AWS client and the network (so retries and paging are testable).
public protocol HTTPTransport: Sendable {
    /// Sends `request`. Throws `TransportError` when no HTTP response was received.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A failure below HTTP (connection refused, DNS, TLS, timeout).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}

/// The default transport: `URLSession` (FoundationNetworking on Linux).
public struct URLSessionTransport: HTTPTransport {
    /// Per-request timeout in seconds.
    public var timeout: TimeInterval
    /// One ephemeral session (connection reuse) shared by the copies of this transport.
    private let session: URLSession

    public init(timeout: TimeInterval = 60) {
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData,
                                    timeoutInterval: timeout)
        urlRequest.httpMethod = request.method
        for header in request.headers where header.name.lowercased() != "host" {
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            urlRequest.httpBody = Data(request.body)
        }
        let session = self.session
        return try await withCheckedThrowingContinuation { continuation in
            let task = session.dataTask(with: urlRequest) { data, response, error in
                if let error {
                    continuation.resume(throwing: TransportError(error.localizedDescription))
                    return
                }
                guard let http = response as? HTTPURLResponse else {
                    continuation.resume(throwing: TransportError("no HTTP response"))
                    return
                }
                var headers: [String: String] = [:]
                for (key, value) in http.allHeaderFields {
                    if let name = key as? String, let text = value as? String { headers[name.lowercased()] = text }
                }
                continuation.resume(returning: HTTPResponse(status: http.statusCode, headers: headers,
                                                            body: Array(data ?? Data())))
            }
            task.resume()
        }
    }
}
