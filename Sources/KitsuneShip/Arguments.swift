// Command line of kitsune-ship. Usage errors exit 2 with a usage line; nothing is sent.
import CKitsuneSys
import CKitsuneBuildInfo

/// kitsune-ship's version: Kitsune's own (KitsunePolicyCore/Version.swift, linked in Shared/).
var shipVersion: StaticString { kitsuneVersion }

/// The git commit this binary was built from (stamped by scripts/package), or `unknown`.
func buildCommit() -> Bytes { bytes(ofCString: kitsune_build_commit()) }

let usageLine: StaticString = "usage: kitsune-ship --host HOST --ip A.B.C.D --port PORT --path PATH --timeout-ms N [--ca-file FILE] [--batch ID] < BODY\n"

/// Parsed and validated command line.
struct ShipOptions {
    var host: Bytes = []
    var ip: Bytes = []          // 4 bytes
    var port = 0
    var path: Bytes = []
    var timeoutMs = 0
    var caFile: Bytes?
    /// Sent as `X-Kitsune-Batch` (the batch's id: `<instance_id>-<first seq>`).
    var batch: Bytes?
    var help = false
    var version = false
}

struct UsageError: Error {
    let message: Bytes
    init(_ m: Bytes) { message = m }
}

/// Upper bound for --timeout-ms (one hour).
let maxTimeoutMs = 3_600_000

/// Parse `argv` (index 0 is the program).
func parseShipArguments(_ argv: [Bytes]) throws(UsageError) -> ShipOptions {
    var o = ShipOptions()
    var seen: [Bytes] = []
    var i = 1
    while i < argv.count {
        var arg = argv[i]
        var inline: Bytes?
        if arg.hasPrefix([45, 45]), let eq = arg.firstIndex(of: 61) {
            inline = Bytes(arg[(eq + 1)...])
            arg = Bytes(arg[..<eq])
        }
        func value() throws(UsageError) -> Bytes {
            if seen.contains(arg) { throw UsageError(arg + Bytes(literal: " given twice")) }
            seen.append(arg)
            if let v = inline { return v }
            guard i + 1 < argv.count else { throw UsageError(arg + Bytes(literal: " needs a value")) }
            i += 1
            return argv[i]
        }
        switch arg {
        case Bytes(literal: "--host"): o.host = try hostName(try value())
        case Bytes(literal: "--ip"): o.ip = try ipv4(try value())
        case Bytes(literal: "--port"):
            let v = try value()
            guard let p = v.decimalValue(), p > 0, p < 65536 else {
                throw UsageError(Bytes(literal: "--port must be 1..65535, not ") + printable(v))
            }
            o.port = p
        case Bytes(literal: "--path"):
            let v = try value()
            guard v.first == 47, v.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw UsageError(Bytes(literal: "--path must start with / and be printable ASCII without spaces"))
            }
            o.path = v
        case Bytes(literal: "--timeout-ms"):
            let v = try value()
            guard let t = v.decimalValue(), t > 0, t <= maxTimeoutMs else {
                throw UsageError(Bytes(literal: "--timeout-ms must be 1..3600000, not ") + printable(v))
            }
            o.timeoutMs = t
        case Bytes(literal: "--ca-file"):
            let v = try value()
            guard !v.isEmpty, !v.contains(0) else { throw UsageError(Bytes(literal: "--ca-file needs a file name")) }
            o.caFile = v
        case Bytes(literal: "--batch"):
            let v = try value()
            guard !v.isEmpty, v.count <= 128, v.allSatisfy({ $0 == 45 || (48...57).contains($0) || (97...102).contains($0) }) else {
                throw UsageError(Bytes(literal: "--batch must be INSTANCE-SEQ (lowercase hex, digits and -), not ") + printable(v))
            }
            o.batch = v
        case Bytes(literal: "--help"), Bytes(literal: "-h"): o.help = true
        case Bytes(literal: "--version"): o.version = true
        default:
            throw UsageError(arg.hasPrefix([45]) ? Bytes(literal: "unknown option ") + printable(arg)
                                                 : Bytes(literal: "unexpected argument ") + printable(arg))
        }
        i += 1
    }
    if o.help || o.version { return o }
    if o.host.isEmpty { throw UsageError(Bytes(literal: "missing --host")) }
    if o.ip.isEmpty { throw UsageError(Bytes(literal: "missing --ip")) }
    if o.port == 0 { throw UsageError(Bytes(literal: "missing --port")) }
    if o.path.isEmpty { throw UsageError(Bytes(literal: "missing --path")) }
    if o.timeoutMs == 0 { throw UsageError(Bytes(literal: "missing --timeout-ms")) }
    return o
}

/// A DNS name or IPv4 literal: letters, digits, `-` and `.`, at most 253 bytes.
func hostName(_ v: Bytes) throws(UsageError) -> Bytes {
    guard !v.isEmpty, v.count <= 253, v.first != 45, v.first != 46,
          v.allSatisfy({ $0 == 45 || $0 == 46 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
        throw UsageError(Bytes(literal: "--host must be a DNS name or an IPv4 address, not ") + printable(v))
    }
    return v
}

/// Dotted-quad IPv4 address (four decimal numbers 0..255) as 4 bytes.
func ipv4(_ v: Bytes) throws(UsageError) -> Bytes {
    let parts = v.split(separator: 46, omittingEmptySubsequences: false)
    var out: Bytes = []
    for p in parts {
        guard let n = Bytes(p).decimalValue(), n <= 255 else { break }
        out.append(UInt8(n))
    }
    guard parts.count == 4, out.count == 4 else {
        throw UsageError(Bytes(literal: "--ip must be an IPv4 address A.B.C.D, not ") + printable(v))
    }
    return out
}

/// `v` for a message: control and non-ASCII bytes replaced by `?`, at most 100 bytes.
func printable(_ v: Bytes) -> Bytes {
    var out = v.prefix(100).map { ($0 < 32 || $0 > 126) ? 63 : $0 }
    if v.count > 100 { out += Bytes(literal: "...") }
    return out
}
