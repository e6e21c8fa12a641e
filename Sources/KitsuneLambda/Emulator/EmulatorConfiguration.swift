import Foundation

/// Everything needed to emulate one Lambda function locally.
///
/// Paths are host paths. The code (`code`) becomes `/var/task` and the layers, merged in order,
/// become `/opt` inside the sandbox; both are read-only there.
public struct EmulatorConfiguration: Sendable {
    /// The function package: a directory or a `.zip` file.
    public var code: URL
    /// The handler, e.g. `app.handler` (passed to the runtime as `_HANDLER`).
    public var handler: String
    /// A runtime identifier from `Data/runtimes.json`, e.g. `python3.11` or `provided.al2023`.
    public var runtime: String
    /// Layers (directories or zips), extracted into `/opt` in order (later layers win).
    public var layers: [URL]
    /// Function timeout in seconds (Lambda: 1...900).
    public var timeoutSeconds: Double
    /// Memory size in MB (Lambda: 128...10240). Applied as a memory limit when a memory cgroup exists.
    public var memoryMB: Int
    /// Extra environment variables (they override the emulator's defaults, like function configuration does).
    public var environment: [String: String]
    /// The function name (`AWS_LAMBDA_FUNCTION_NAME`).
    public var functionName: String
    /// `AWS_REGION` / `AWS_DEFAULT_REGION` and the region in the function ARN.
    public var region: String
    /// Account id used in the function ARN.
    public var accountId: String
    /// Loopback port of the Runtime API; `nil` picks a free one.
    public var port: UInt16?
    /// The unprivileged user and group the runtime runs as (Lambda's sbx_user; default nobody).
    public var sandboxUID: UInt32
    /// See `sandboxUID`.
    public var sandboxGID: UInt32
    /// Where the function's stdout/stderr is echoed while it runs (a file descriptor), or `nil` to
    /// only collect it into each `InvocationResult.logs`.
    public var logEchoDescriptor: Int32?
    /// Lambda's init phase limit (10 s for on-demand functions).
    public var initTimeoutSeconds: Double
    /// Also fill `InvocationResult.processTreePeakRSSBytes` (reads /proc after each invocation).
    public var measureProcessTreeRSS = false
    /// Freeze the sandbox between invocations, as Lambda does (cgroup v2 freezer; no effect
    /// without it): background threads of the function and extensions do not run while idle.
    public var freezeBetweenInvocations = true

    /// Creates a configuration with Lambda's defaults (3 s timeout, 128 MB, us-east-1).
    public init(code: URL, handler: String, runtime: String, layers: [URL] = [],
                timeoutSeconds: Double = 3, memoryMB: Int = 128, environment: [String: String] = [:],
                functionName: String = "kitsune-local", region: String = "us-east-1",
                accountId: String = "000000000000", port: UInt16? = nil,
                sandboxUID: UInt32 = 65534, sandboxGID: UInt32 = 65534,
                logEchoDescriptor: Int32? = nil, initTimeoutSeconds: Double = 10) {
        self.code = code
        self.handler = handler
        self.runtime = runtime
        self.layers = layers
        self.timeoutSeconds = timeoutSeconds
        self.memoryMB = memoryMB
        self.environment = environment
        self.functionName = functionName
        self.region = region
        self.accountId = accountId
        self.port = port
        self.sandboxUID = sandboxUID
        self.sandboxGID = sandboxGID
        self.logEchoDescriptor = logEchoDescriptor
        self.initTimeoutSeconds = initTimeoutSeconds
    }

    /// The function ARN handed to the runtime (`Lambda-Runtime-Invoked-Function-Arn`).
    public var functionARN: String {
        "arn:aws:lambda:\(region):\(accountId):function:\(functionName)"
    }

    /// Checks the values Lambda itself would refuse.
    func validate() throws(EmulatorError) {
        if handler.trimmingCharacters(in: .whitespaces).isEmpty {
            throw .invalidConfiguration("handler is empty: give the handler, e.g. --handler app.handler")
        }
        if !(timeoutSeconds >= 1 && timeoutSeconds <= 900) {
            throw .invalidConfiguration("timeout \(timeoutSeconds) s is outside Lambda's range 1...900 seconds")
        }
        if !(128...10240).contains(memoryMB) {
            throw .invalidConfiguration("memory size \(memoryMB) MB is outside Lambda's range 128...10240 MB")
        }
        let nameOK = !functionName.isEmpty && functionName.count <= 64 && functionName.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")
        }
        if !nameOK {
            throw .invalidConfiguration("function name '\(functionName)' is invalid: 1-64 characters among letters, digits, '-' and '_'")
        }
        for key in environment.keys where key.isEmpty || key.contains("=") || key.contains("\0") {
            throw .invalidConfiguration("environment variable name '\(key)' is invalid")
        }
    }
}

/// One invocation request: the event payload plus the optional context Lambda passes along.
public struct InvocationRequest: Sendable {
    /// The event, as JSON bytes.
    public var payload: Data
    /// Base64 client context (`Lambda-Runtime-Client-Context`), if any.
    public var clientContext: String?
    /// Cognito identity JSON (`Lambda-Runtime-Cognito-Identity`), if any.
    public var cognitoIdentity: String?

    /// Creates a request for `payload` (JSON bytes).
    public init(payload: Data, clientContext: String? = nil, cognitoIdentity: String? = nil) {
        self.payload = payload
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
    }
}
