// kitsune-ship: POST one JSON batch (read from stdin) over HTTPS, for the enforcer's sidecar, which has
// no TLS of its own and forks/execs this helper for https:// KITSUNE_EVENTS_URL destinations.
// Embedded Swift, statically linked with OpenSSL (CKitsuneTLS). The caller resolves the host name:
// no resolver runs here (glibc's cannot work in a static binary).
//
// Exit 0: the collector answered 2xx. Exit 1: not delivered, with exactly one line on stderr saying why.
// Exit 3: the collector answered otherwise; its answer's head and the start of its body are on stdout.
// Exit 2: usage error (or a body that is empty or too large), with a usage line. The token is never printed.
import CKitsuneSys
import CKitsuneTLS

/// Largest request body accepted on stdin.
let bodyLimit = 16 << 20

/// Where CA bundles live when neither --ca-file nor KITSUNE_EVENTS_CA_FILE names one: Amazon Linux,
/// Debian/Ubuntu, then the BSD/Alpine/macOS-style location.
let defaultCABundles: [StaticString] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
]

/// Not delivered: one line on stderr, exit 1.
func undelivered(_ message: Bytes) -> Never {
    writeAll(2, message + [10])
    ks_exit(1)
}

/// Usage error: what is wrong, the usage line, exit 2.
func usage(_ message: Bytes) -> Never {
    writeAll(2, Bytes(literal: "kitsune-ship: ") + message + [10] + Bytes(literal: usageLine))
    ks_exit(2)
}

func timedOut(_ options: ShipOptions, _ phase: Bytes) -> Never {
    undelivered(Bytes(literal: "timed out after ") + decimalBytes(options.timeoutMs) + Bytes(literal: " ms (") + phase + [41])
}

/// Milliseconds left of the run's budget.
func remainingMs(_ options: ShipOptions, since start: Int64) -> Int {
    options.timeoutMs - Int((ks_monotonic_ns() - start) / 1_000_000)
}

/// The CA bundle: --ca-file, else $KITSUNE_EVENTS_CA_FILE, else the first default that exists.
func caBundle(_ options: ShipOptions) -> Bytes {
    if let f = options.caFile ?? environment("KITSUNE_EVENTS_CA_FILE"), !f.isEmpty {
        if !isRegularFile(f) {
            var st = ks_stat_t()
            let r = withCPath(f) { ks_stat_path($0, &st) }
            undelivered(Bytes(literal: "CA file ") + printable(f) + Bytes(literal: ": ")
                         + (r < 0 ? errorText(-r) : Bytes(literal: "not a regular file")))
        }
        return f
    }
    for candidate in defaultCABundles {
        let path = Bytes(literal: candidate)
        if isRegularFile(path) { return path }
    }
    undelivered(Bytes(literal: "no CA bundle: none of /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/certs/ca-certificates.crt, /etc/ssl/cert.pem exists; give --ca-file or KITSUNE_EVENTS_CA_FILE"))
}

/// The request body from stdin, bounded in size and by the run's deadline.
func readBody(_ options: ShipOptions, since start: Int64) -> Bytes {
    var body: Bytes = []
    var chunk = Bytes(repeating: 0, count: 65536)
    var fds: [Int32] = [0]
    var revents: [Int16] = [0]
    while true {
        let left = remainingMs(options, since: start)
        if left <= 0 { timedOut(options, Bytes(literal: "reading the body from stdin")) }
        let ready = ks_poll(&fds, 1, &revents, Int32(left))
        if ready < 0 { usage(Bytes(literal: "cannot read the body from stdin: ") + errorText(-ready)) }
        if ready == 0 { continue }
        let n = chunk.withUnsafeMutableBufferPointer { ks_read(0, $0.baseAddress, $0.count) }
        if n < 0 {
            if n == -11 || n == -4 { continue }              // EAGAIN, EINTR
            usage(Bytes(literal: "cannot read the body from stdin: ") + errorText(Int32(-n)))
        }
        if n == 0 { break }
        if body.count + Int(n) > bodyLimit { usage(Bytes(literal: "request body on stdin is larger than 16 MiB")) }
        body += chunk[0..<Int(n)]
    }
    if body.isEmpty { usage(Bytes(literal: "no request body on stdin (expected a JSON array)")) }
    return body
}

/// The request head (everything up to and including the blank line).
func requestHead(_ options: ShipOptions, bodyLength: Int, token: Bytes?, batch: Bytes? = nil) -> Bytes {
    var head = Bytes(literal: "POST ") + options.path + Bytes(literal: " HTTP/1.1\r\nHost: ") + options.host
    if options.port != 443 { head += [58] + decimalBytes(options.port) }
    head += Bytes(literal: "\r\nUser-Agent: kitsune-ship/") + Bytes(literal: shipVersion)
    head += Bytes(literal: "\r\nContent-Type: application/json\r\nContent-Length: ") + decimalBytes(bodyLength)
    head += Bytes(literal: "\r\nConnection: close")
    if let t = token { head += Bytes(literal: "\r\nAuthorization: Bearer ") + t }
    if let b = batch { head += Bytes(literal: "\r\nX-Kitsune-Batch: ") + b }
    head += Bytes(literal: "\r\n\r\n")
    return head
}

func runShip() -> Never {
    let start = ks_monotonic_ns()
    let options: ShipOptions
    do { options = try parseShipArguments(processArguments()) } catch { usage(error.message) }
    if options.help {
        writeAll(1, Bytes(literal: usageLine))
        writeAll(1, Bytes(literal: "POSTs the JSON batch read from stdin over HTTPS (TLS 1.2+, verified) to HOST at the given IPv4 address.\nEnvironment: KITSUNE_EVENTS_TOKEN (Authorization: Bearer), KITSUNE_EVENTS_CA_FILE (CA bundle).\nExit 0 on a 2xx answer, 1 when not delivered (one line on stderr), 2 on usage errors.\n"))
        ks_exit(0)
    }
    if options.version { writeAll(1, versionLine(program: "kitsune-ship", commit: buildCommit())); ks_exit(0) }

    var token = environment("KITSUNE_EVENTS_TOKEN")
    if let t = token, t.isEmpty { token = nil }
    if let t = token, !t.allSatisfy({ $0 >= 32 && $0 < 127 }) {
        usage(Bytes(literal: "KITSUNE_EVENTS_TOKEN contains control or non-ASCII characters"))
    }
    let ca = caBundle(options)
    let body = readBody(options, since: start)
    let head = requestHead(options, bodyLength: body.count, token: token, batch: options.batch)

    let left = remainingMs(options, since: start)
    if left <= 0 { timedOut(options, Bytes(literal: "reading the body from stdin")) }
    var err = Bytes(repeating: 0, count: 512)
    var answer = Bytes(repeating: 0, count: 4096)
    var answerLength = 0
    let status: Int32 = withCPath(options.host) { host in
        withCPath(ca) { caFile in
            options.ip.withUnsafeBufferPointer { ip in
                head.withUnsafeBufferPointer { h in
                    body.withUnsafeBufferPointer { b in
                        err.withUnsafeMutableBufferPointer { e in
                            e.baseAddress!.withMemoryRebound(to: CChar.self, capacity: e.count) { ep in
                                answer.withUnsafeMutableBufferPointer { a in
                                    a.baseAddress!.withMemoryRebound(to: CChar.self, capacity: a.count) { ap in
                                        ks_tls_post(host, ip.baseAddress, Int32(options.port), caFile, h.baseAddress, h.count,
                                                    b.baseAddress, b.count, Int32(left), ep, e.count, ap, a.count, &answerLength)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if (200..<300).contains(status) { ks_exit(0) }
    if status >= 100 {
        // Exit 3: the collector's answer itself (head and the start of its body) on stdout, for the
        // sidecar to decide between dropping the batch (a final 4xx) and retrying it (Retry-After).
        if answerLength > 0 { writeAll(1, Bytes(answer[0..<answerLength])); ks_exit(3) }
        undelivered(Bytes(literal: "HTTP ") + decimalBytes(Int(status)))
    }
    let message = Bytes(err.prefix { $0 != 0 })
    if Int(status) == Int(KS_TLS_E_TIMEOUT) { timedOut(options, message) }
    undelivered(message.isEmpty ? Bytes(literal: "failed (code ") + decimalBytes(Int(status)) + [41] : message)
}

runShip()
