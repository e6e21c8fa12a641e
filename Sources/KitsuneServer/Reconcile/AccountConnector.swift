import Foundation
import KitsuneAWS

/// How the reconciler reaches an account: a seam so tests and the in-account agent can supply their
/// own clients.
public protocol AccountConnector: Sendable {
    /// A client for `account` in `region`, proven to act in that account.
    func client(for account: AWSAccountRecord, region: String) async throws -> AWSClient
}

/// The server's own credential chain (environment, shared config, instance role; honours
/// `AWS_ENDPOINT_URL`), assuming the account's role through STS when one is given. Every client is
/// checked with `GetCallerIdentity`: a role that lands in another account is refused, so a typo in
/// `role_arn` never makes the server change someone else's functions.
public struct STSAccountConnector: AccountConnector {
    let base: @Sendable (String) throws -> AWSClient
    /// Counts AWS calls (for the reconcile report and the bench).
    public let calls: CallCounter

    public init(calls: CallCounter = CallCounter(), base: (@Sendable (String) throws -> AWSClient)? = nil) {
        self.calls = calls
        self.base = base ?? { region in
            try AWSClient.fromEnvironment(region: region, transport: CountingTransport(inner: URLSessionTransport(), counter: calls))
        }
    }

    public func client(for account: AWSAccountRecord, region: String) async throws -> AWSClient {
        let own = try base(region)
        let client: AWSClient
        if let role = account.roleARN {
            let credentials = try await own.sts.assumeRole(roleARN: role, sessionName: "kitsune-reconciler", externalID: account.externalID)
            client = AWSClient(region: region, credentials: StaticCredentialsProvider(credentials), endpoints: own.endpoints,
                               transport: own.transport, retry: own.retry)
        } else {
            client = own
        }
        let identity = try await client.sts.getCallerIdentity()
        guard identity.account == account.accountID else {
            throw AWSError.invalidInput("credentials for account \(account.accountID) act in account \(identity.account) (\(identity.arn)); refusing to touch it")
        }
        return client
    }
}

/// A thread-safe count of requests sent.
public final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    public init() {}

    func add(_ action: String) { lock.withLock { counts[action, default: 0] += 1 } }

    /// Requests by service host, and in all.
    public var total: Int { lock.withLock { counts.values.reduce(0, +) } }
    public var byTarget: [String: Int] { lock.withLock { counts } }
}

/// A transport that counts what it sends.
public struct CountingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let counter: CallCounter

    public init(inner: any HTTPTransport, counter: CallCounter) {
        self.inner = inner
        self.counter = counter
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        counter.add(request.method + " /" + request.url.path.split(separator: "/").prefix(2).joined(separator: "/"))
        return try await inner.send(request)
    }
}
