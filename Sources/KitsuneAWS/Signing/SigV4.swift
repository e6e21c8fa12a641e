import Crypto
import Foundation

/// A request as SigV4 sees it. `path` is the path exactly as sent on the wire (already
/// percent-encoded once); `query` holds decoded name/value pairs (the signer encodes them).
public struct SignableRequest: Sendable {
    public var method: String
    /// `host` or `host:port` (the port only when it is not the scheme's default).
    public var host: String
    public var path: String
    public var query: [QueryItem]
    /// Header names in any case; repeated names are allowed (their values are joined with `,`).
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(method: String, host: String, path: String, query: [QueryItem] = [],
                headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// One query parameter (decoded).
public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// One HTTP header.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// The intermediate values of a signature, exposed so tests can compare every step with the
/// published test suite (canonical request, string to sign, authorization header).
public struct SigV4Signature: Sendable {
    public let canonicalRequest: String
    public let stringToSign: String
    public let signedHeaders: String
    public let signature: String
    public let authorization: String
    public let amzDate: String
}

/// AWS Signature Version 4 (header and presigned-query forms), per
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
public struct SigV4Signer: Sendable {
    /// The signing name of the service (`lambda`, `iam`, `sts`, `cloudtrail`, `s3`, …).
    public var service: String
    /// The signing region (`us-east-1` for IAM in the `aws` partition).
    public var region: String
    /// S3 rules: the path is used as sent (no normalization, no second encoding) and the payload
    /// hash travels in `x-amz-content-sha256`.
    public var isS3: Bool

    /// Headers never signed (they may be changed by proxies or the HTTP stack), as in botocore.
    public static let unsignedHeaders: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id"]

    public init(service: String, region: String, isS3: Bool? = nil) {
        self.service = service
        self.region = region
        self.isS3 = isS3 ?? (service == "s3")
    }

    /// Signs `request` in place: adds `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials),
    /// `x-amz-content-sha256` (S3) and `Authorization`. Headers already present are kept.
    @discardableResult
    public func sign(_ request: inout SignableRequest, credentials: AWSCredentials, date: Date) -> SigV4Signature {
        let amzDate = Self.amzDate(date)
        if request.header("x-amz-date") == nil { request.headers.append(HTTPHeader("X-Amz-Date", amzDate)) }
        if request.header("host") == nil { request.headers.append(HTTPHeader("Host", request.host)) }
        if let token = credentials.sessionToken, request.header("x-amz-security-token") == nil {
            request.headers.append(HTTPHeader("X-Amz-Security-Token", token))
        }
        let payloadHash = Self.hexSHA256(request.body)
        if isS3, request.header("x-amz-content-sha256") == nil {
            request.headers.append(HTTPHeader("x-amz-content-sha256", payloadHash))
        }
        let dateHeader = request.header("x-amz-date") ?? amzDate
        let result = signature(for: request, credentials: credentials, amzDate: dateHeader,
                               payloadHash: request.header("x-amz-content-sha256") ?? payloadHash,
                               query: request.query)
        request.headers.append(HTTPHeader("Authorization", result.authorization))
        return result
    }

    /// Computes the signature of `request` as it is (no headers added); used by `sign` and the tests.
    public func signature(for request: SignableRequest, credentials: AWSCredentials, amzDate: String,
                          payloadHash: String, query: [QueryItem]) -> SigV4Signature {
        let (canonicalHeaders, signedHeaders) = canonicalHeaders(request.headers)
        let canonical = [request.method.uppercased(), canonicalURI(request.path), Self.canonicalQuery(query),
                         canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope,
                            Self.hexSHA256(Array(canonical.utf8))].joined(separator: "\n")
        let key = signingKey(secret: credentials.secretAccessKey, day: day)
        let signature = Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8),
                                                                       using: SymmetricKey(data: key))))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return SigV4Signature(canonicalRequest: canonical, stringToSign: stringToSign, signedHeaders: signedHeaders,
                              signature: signature, authorization: authorization, amzDate: amzDate)
    }

    /// Presigns `request` (query-string authentication): returns the full query (the request's own
    /// parameters plus the `X-Amz-*` ones, `X-Amz-Signature` last). Only `host` (and any headers the
    /// request carries) are signed. `expires` is in seconds (1…604800).
    public func presign(_ request: SignableRequest, credentials: AWSCredentials, date: Date,
                        expires: Int) -> (query: [QueryItem], signature: SigV4Signature) {
        let amzDate = Self.amzDate(date)
        var req = request
        if req.header("host") == nil { req.headers.append(HTTPHeader("Host", req.host)) }
        let (_, signedHeaders) = canonicalHeaders(req.headers)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        var query = req.query
        query.append(QueryItem("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        query.append(QueryItem("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        query.append(QueryItem("X-Amz-Date", amzDate))
        query.append(QueryItem("X-Amz-Expires", String(max(1, min(expires, 604_800)))))
        query.append(QueryItem("X-Amz-SignedHeaders", signedHeaders))
        if let token = credentials.sessionToken { query.append(QueryItem("X-Amz-Security-Token", token)) }
        let payloadHash = isS3 ? "UNSIGNED-PAYLOAD" : Self.hexSHA256(req.body)
        let result = signature(for: req, credentials: credentials, amzDate: amzDate, payloadHash: payloadHash,
                               query: query)
        query.append(QueryItem("X-Amz-Signature", result.signature))
        return (query, result)
    }

    /// The canonical URI: for S3 the path as sent; otherwise normalized and encoded once more.
    public func canonicalURI(_ path: String) -> String {
        let raw = path.isEmpty ? "/" : path
        if isS3 { return raw }
        return AWSURIEncoding.encode(AWSURIEncoding.normalizePath(raw), keepSlash: true)
    }

    /// The canonical query string: names and values encoded, sorted by name then value.
    public static func canonicalQuery(_ items: [QueryItem]) -> String {
        let encoded: [(String, String)] = items.map { item in
            (AWSURIEncoding.encode(item.name), AWSURIEncoding.encode(item.value))
        }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        return sorted.map { pair in pair.0 + "=" + pair.1 }.joined(separator: "&")
    }

    private func canonicalHeaders(_ headers: [HTTPHeader]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased().trimmingCharacters(in: .whitespaces)
            if Self.unsignedHeaders.contains(name) { continue }
            merged[name, default: []].append(Self.trimAll(header.value))
        }
        let names = merged.keys.sorted()
        let canonical = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    /// Trims and collapses runs of whitespace (including folded lines) to one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .joined(separator: " ")
    }

    private func signingKey(secret: String, day: String) -> [UInt8] {
        func hmac(_ key: [UInt8], _ data: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(data.utf8), using: SymmetricKey(data: key)))
        }
        let kDate = hmac(Array("AWS4\(secret)".utf8), day)
        return hmac(hmac(hmac(kDate, region), service), "aws4_request")
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    public static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let day: String = pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
        let time: String = pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
        return day + "T" + time + "Z"
    }

    /// Lower-case hex SHA-256.
    public static func hexSHA256(_ bytes: [UInt8]) -> String { hex(Array(SHA256.hash(data: bytes))) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }
}
