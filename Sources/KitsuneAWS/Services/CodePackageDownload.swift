import Foundation

extension AWSClient {
    /// Downloads a deployment package from GetFunction's `Code.Location` (or a layer's
    /// `Content.Location`): a pre-signed URL, so the request is sent unsigned through this client's
    /// transport. Network failures and 5xx answers are retried like API calls.
    /// - Parameters:
    ///   - location: the pre-signed `http(s)` URL.
    ///   - maxBytes: largest accepted package; a bigger `Content-Length` or body is refused.
    /// - Throws: ``AWSError/invalidInput(_:)`` for a URL that is not http(s) or a package above
    ///   `maxBytes`; ``AWSError/accessDenied(action:message:)`` for 403 (usually an expired URL);
    ///   ``AWSError/network(service:action:endpoint:detail:)`` / ``AWSError/service(action:status:code:message:)``
    ///   otherwise. Messages never include the URL's query (it carries the signature).
    public func downloadCodePackage(from location: String, maxBytes: Int) async throws -> [UInt8] {
        guard let url = URL(string: location), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw AWSError.invalidInput("code package location is not an http(s) URL: '\(Self.redacted(location))'")
        }
        let shown = Self.redacted(location)
        let action = "lambda:GetFunction (code download)"
        var attempt = 0
        while true {
            let response: HTTPResponse
            do {
                response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: [], body: []))
            } catch {
                attempt += 1
                guard attempt < retry.maxAttempts else {
                    throw AWSError.network(service: "lambda", action: "code download", endpoint: shown,
                                           detail: "\(error) (after \(attempt) attempts)")
                }
                await retry.sleep(retry.delay(afterAttempt: attempt - 1))
                continue
            }
            if (500..<600).contains(response.status) {
                attempt += 1
                if attempt < retry.maxAttempts {
                    await retry.sleep(retry.delay(afterAttempt: attempt - 1))
                    continue
                }
            }
            if let length = response.headers["content-length"].flatMap(Int.init), length > maxBytes {
                throw AWSError.invalidInput("code package at \(shown) is \(length) bytes, above the limit of \(maxBytes) bytes")
            }
            guard response.body.count <= maxBytes else {
                throw AWSError.invalidInput("code package at \(shown) is \(response.body.count) bytes, above the limit of \(maxBytes) bytes")
            }
            switch response.status {
            case 200..<300:
                return response.body
            case 403:
                throw AWSError.accessDenied(action: action, message: "HTTP 403 from \(shown) (the pre-signed URL expires after about 10 minutes)")
            default:
                let text = String(decoding: response.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                throw AWSError.service(action: action, status: response.status, code: "HTTP\(response.status)",
                                       message: "from \(shown)" + (text.isEmpty ? "" : ": \(text)"))
            }
        }
    }

    /// The URL without its query (a pre-signed URL's query is a credential).
    static func redacted(_ location: String) -> String {
        location.split(separator: "?", maxSplits: 1).first.map(String.init) ?? location
    }
}
