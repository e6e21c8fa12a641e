import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// How `kitsune server` runs.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8443
    /// SQLite lives here unless `databaseURL` names a PostgreSQL.
    public var dataDirectory = "./kitsune-data"
    public var databaseURL: String?
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Plain HTTP on an address other than loopback.
    public var insecureHTTP = false
    /// How the server is reached from outside (shown in logs; used by part 2 for enforcers' URLs).
    public var publicURL: String?
    public var retentionMs: Int64 = 30 * 86_400_000
    /// Requests a second per token (0: unlimited), and the burst allowed.
    public var rateLimit = 100.0
    public var rateBurst = 200.0
    public var staleAfterMs: Int64 = 6 * 3_600_000
    public var limits = IngestLimits()
    /// How often the reconciler makes functions match their policies.
    public var reconcileIntervalMs: Int64 = 60_000
    /// Whether the background jobs run reconcile passes (off: only `POST /api/v1/reconcile` does).
    public var backgroundReconcile = true

    /// `KITSUNE_EVENTS_URL` for the functions the reconciler protects.
    public var eventsURL: String? {
        publicURL.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/api/v1/events" }
    }
    public var alerts = AlertSettings()
    /// How often the lease holder runs the background jobs (retention, alerts, reconcile).
    public var jobInterval: Duration = .seconds(10)
    /// Events a step of SQLite's search indexer adds to the trigram index (0: no indexing, `q` scans).
    public var searchIndexStep = 200
    /// How long dashboard sessions last.
    public var sessions = SessionPolicy()
    /// A connection with no request in progress this long is closed: one that sends nothing, or
    /// dribbles its headers (a slowloris holding sockets), does not keep a file descriptor for ever.
    /// The shipper sends `Connection: close`; browsers and HTTP clients reconnect.
    public var idleTimeout: Duration = .seconds(60)
    /// A request's body must arrive within this of its headers, or the connection is closed
    /// (`BodyDeadlineHandler`): a slow-body client does not hold a connection and a handler for ever.
    public var bodyTimeout: Duration = .seconds(30)

    public init() {}

    /// Checks what can be checked before anything starts; names the option at fault.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw ConfigurationError("--listen: port \(port) is out of range") }
        if (tlsCertificate == nil) != (tlsKey == nil) { throw ConfigurationError("--tls-cert and --tls-key go together") }
        if tlsCertificate == nil && !insecureHTTP && !Self.isLoopback(host) {
            throw ConfigurationError("--listen \(host): plain HTTP is only served on loopback; give --tls-cert/--tls-key, or --insecure-http behind a TLS proxy")
        }
        for path in [tlsCertificate, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ConfigurationError("\(path): cannot read the TLS file")
        }
        if let url = publicURL, URL(string: url)?.scheme == nil { throw ConfigurationError("--public-url \(url): not a URL") }
        guard retentionMs > 0 else { throw ConfigurationError("--retention must be positive") }
        guard idleTimeout > .zero, bodyTimeout > .zero else { throw ConfigurationError("the idle and body timeouts must be positive") }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// A configuration problem: the message names the option.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// `kitsune server`: the API over a store, the background jobs, TLS.
public struct ControlPlane: Sendable {
    public let configuration: ServerConfiguration
    public let store: ServerStore
    public let metrics = ServerMetrics()
    /// Makes functions match their policies (policies, accounts and the inventory need it).
    public let reconcile: ReconcileRunner
    /// Takes the events enforcers post (its queue's gaps pace the search indexer).
    public let ingestor: EventIngestor
    let logger: Logger

    /// `connector` and `layers` default to the server's own AWS credentials and the enforcer builds
    /// installed beside it.
    public init(configuration: ServerConfiguration, store: ServerStore, connector: (any AccountConnector)? = nil,
                layers: (any LayerSource)? = nil, logger: Logger = Logger(label: "kitsune.server")) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        ingestor = EventIngestor(store: store, limits: configuration.limits, metrics: metrics)
        var options = ReconcileOptions(eventsURL: configuration.eventsURL)
        options.intervalMs = configuration.reconcileIntervalMs
        let calls = (connector as? STSAccountConnector)?.calls ?? CallCounter()
        let connector = connector ?? STSAccountConnector(calls: calls)
        reconcile = ReconcileRunner(reconciler: Reconciler(store: store, connector: connector, layers: layers ?? InstalledLayerSource(),
                                                           options: options, calls: calls))
    }

    /// The router: health, metrics and the OpenAPI document open; the dashboard's files at `/`;
    /// everything under `/api/v1` behind a bearer token or a dashboard session.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: SecurityHeaders(tls: configuration.tlsCertificate != nil))
        router.add(middleware: RequestMetrics(metrics: metrics))
        let store = self.store, metrics = self.metrics
        router.get("healthz") { _, _ in Response.json(#"{"status":"ok"}"#) }
        router.get("readyz") { _, _ in
            await store.ping() ? Response.json(#"{"status":"ready"}"#)
                : Response.json(#"{"status":"unavailable","error":"the store does not answer"}"#, status: .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        router.get("openapi.yaml") { _, _ in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "ServerData"),
                  let text = try? String(contentsOf: url, encoding: .utf8) else { throw APIError(.notFound, "openapi.yaml is missing from this installation") }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.add(middleware: WebDashboard())
        let cookie = SessionCookie(tls: configuration.tlsCertificate != nil, policy: configuration.sessions)
        SessionRoutes(store: store, cookie: cookie).register(on: router.group("api/v1/session").add(middleware: ErrorMapping(metrics: metrics)))
        let api = router.group("api/v1")
            .add(middleware: ErrorMapping(metrics: metrics))
            .add(middleware: Authenticator(store: store, limiter: RateLimiter(rate: configuration.rateLimit, burst: configuration.rateBurst), sessions: cookie))
        EventRoutes(ingestor: ingestor, metrics: metrics).register(on: api)
        AdminRoutes(store: store, staleAfterMs: configuration.staleAfterMs).register(on: api)
        PolicyRoutes(store: store).register(on: api)
        InventoryRoutes(store: store, reconcile: reconcile).register(on: api)
        AgentRoutes(store: store, options: reconcile.reconciler.options).register(on: api)
        AlertRoutes(store: store, engine: alertEngine).register(on: api)
        return router
    }

    /// The background jobs this replica takes part in.
    public func jobs() -> BackgroundJobs {
        var jobs = BackgroundJobs(store: store, jobs: [BackgroundJobs.retention(retentionMs: configuration.retentionMs, metrics: metrics),
                                                             BackgroundJobs.statistics(metrics: metrics), alertEngine.job()]
                                  + (configuration.backgroundReconcile ? [reconcile.job] : []))
        jobs.interval = configuration.jobInterval
        return jobs
    }

    /// Fills SQLite's trigram index behind ingest (not with a step of 0); merges PostgreSQL's pending
    /// list of its trigram index.
    public func searchIndexer() -> SearchIndexer {
        var indexer = SearchIndexer(store: store, ingest: ingestor.queue, metrics: metrics)
        indexer.step = configuration.searchIndexStep
        return indexer
    }

    /// The services beside the HTTP server.
    func services() -> [any Service] {
        let indexer = searchIndexer()
        return [jobs()] + (indexer.isNeeded ? [indexer] : [])
    }

    /// The application, ready to `run()` (tests) or `runService()` (the command, with signals).
    /// `onRunning` receives the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        try configuration.validate()
        _ = try SeverityTable.bundled.get()
        let server: HTTPServerBuilder
        let bodyTimeout = TimeAmount(configuration.bodyTimeout)
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [BodyDeadlineHandler(timeout: bodyTimeout)],
                                               idleTimeout: TimeAmount(configuration.idleTimeout))
        if let cert = configuration.tlsCertificate, let key = configuration.tlsKey {
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
                                                               privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            tls.minimumTLSVersion = .tlsv12
            server = try .tls(.http1(configuration: http1), tlsConfiguration: tls)
        } else {
            server = .http1(configuration: http1)
        }
        return Application(
            router: router(), server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kitsune"),
            services: services(),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
