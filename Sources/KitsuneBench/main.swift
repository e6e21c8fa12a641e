// kitsune-bench: measures what the enforcer costs, both sides in one run, and prints ratios.
//
//   kitsune-bench enforcer --enforcer PATH [--iterations 2000] [--rounds 4] [--syscalls 1000000]
//
// A worker (this same binary) does the measured loop; it runs bare and under the enforcer in
// alternating rounds so that machine noise hits both sides alike.
import Glibc

/// Write a line to standard error.
func complain(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

let arguments = CommandLine.arguments

func nowNanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

func percentile(_ samples: [Int64], _ p: Double) -> Double {
    guard !samples.isEmpty else { return 0 }
    let sorted = samples.sorted()
    let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))
    return Double(sorted[index])
}

/// fork + execve + waitpid of `path`, `count` times; one sample (ns) per iteration.
func forkExecSamples(_ path: String, _ count: Int) -> [Int64] {
    var samples: [Int64] = []
    samples.reserveCapacity(count)
    let cPath = strdup(path)!
    var argv: [UnsafeMutablePointer<CChar>?] = [cPath, nil]
    for _ in 0..<count {
        let start = nowNanoseconds()
        let pid = fork()
        if pid == 0 {
            execve(cPath, &argv, environ)
            _exit(127)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        samples.append(nowNanoseconds() - start)
    }
    return samples
}

/// The supervisor's peak resident memory (VmHWM, kB) — our parent when run under the enforcer.
func parentPeakKB() -> Int {
    guard let f = fopen("/proc/\(getppid())/status", "r") else { return -1 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if s.hasPrefix("VmHWM:") {
            return Int(s.dropFirst(6).trimmingPrefix(while: { $0 == " " || $0 == "\t" }).prefix { $0.isNumber }) ?? -1
        }
    }
    return -1
}

/// Worker modes print one line of numbers for the driver.
func worker(_ args: ArraySlice<String>) -> Never {
    switch args.first {
    case "forkexec":
        let samples = forkExecSamples(args.dropFirst().first ?? "/bin/true", Int(args.dropFirst(2).first ?? "500") ?? 500)
        print(samples.map(String.init).joined(separator: " "))
        print(parentPeakKB())
    case "syscalls":
        let n = Int(args.dropFirst().first ?? "1000000") ?? 1_000_000
        let start = nowNanoseconds()
        var sink: pid_t = 0
        for _ in 0..<n { sink &+= getppid() }
        print(nowNanoseconds() - start, sink == 0 ? 0 : 1)
    default:
        complain("kitsune-bench worker: unknown mode")
        exit(2)
    }
    exit(0)
}

/// Run a command and capture its standard output.
func capture(_ argv: [String]) -> String {
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    let pid = fork()
    if pid == 0 {
        dup2(fds[1], 1)
        close(fds[0]); close(fds[1])
        let null = open("/dev/null", O_WRONLY)
        dup2(null, 2)
        var cargs = argv.map { strdup($0) }
        cargs.append(nil)
        execv(cargs[0]!, &cargs)
        _exit(127)
    }
    close(fds[1])
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fds[0], &buf, buf.count)
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    close(fds[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return String(decoding: out, as: UTF8.self)
}

func option(_ name: String, _ fallback: String) -> String {
    if let i = arguments.firstIndex(of: name), i + 1 < arguments.count { return arguments[i + 1] }
    return fallback
}

func fmt(_ v: Double, _ digits: Int = 3) -> String {
    var s = String(Int((v * pow(10, Double(digits))).rounded()))
    while s.count <= digits { s = "0" + s }
    s.insert(".", at: s.index(s.endIndex, offsetBy: -digits))
    return s
}

func benchEnforcer() {
    let enforcer = option("--enforcer", "")
    guard !enforcer.isEmpty, access(enforcer, X_OK) == 0 else {
        complain("kitsune-bench: --enforcer PATH (an executable kitsune-enforcer) is required")
        exit(2)
    }
    let iterations = Int(option("--iterations", "2000")) ?? 2000
    let rounds = max(1, Int(option("--rounds", "4")) ?? 4)
    let syscalls = option("--syscalls", "1000000")
    let me = String(cString: realpath(arguments[0], nil))
    let myDir = String(me[..<me.lastIndex(of: "/")!])
    let policy = option("--policy", "")
    let wrap = [enforcer, "--mode", "enforce", "--package", myDir] + (policy.isEmpty ? [] : ["--policy", policy]) + ["--"]
    let target = option("--target", "/bin/true")

    var bare: [Int64] = [], enforced: [Int64] = [], peak = 0
    for _ in 0..<rounds {
        let per = String(iterations / rounds)
        let b = capture([me, "worker", "forkexec", target, per]).split(separator: "\n")
        let e = capture(wrap + [me, "worker", "forkexec", target, per]).split(separator: "\n")
        guard b.count >= 2, e.count >= 2 else { complain("kitsune-bench: worker failed"); exit(1) }
        bare += b[0].split(separator: " ").compactMap { Int64($0) }
        enforced += e[0].split(separator: " ").compactMap { Int64($0) }
        peak = max(peak, Int(e[1]) ?? -1)
    }
    var sysBare: [Double] = [], sysEnf: [Double] = []
    for _ in 0..<max(11, rounds) {     // short runs, many alternations: medians resist noise
        sysBare.append(Double(capture([me, "worker", "syscalls", syscalls]).split(separator: " ").first.flatMap { Int64($0) } ?? 0))
        sysEnf.append(Double(capture(wrap + [me, "worker", "syscalls", syscalls]).split(separator: " ").first.flatMap { Int64($0) } ?? 0))
    }
    // Start-up: whole `enforcer -- /bin/true` vs `/bin/true`, medians over many runs.
    var startBare: [Int64] = [], startEnf: [Int64] = []
    for _ in 0..<200 {
        var t = nowNanoseconds(); _ = capture([target]); startBare.append(nowNanoseconds() - t)
        t = nowNanoseconds(); _ = capture(wrap + [target]); startEnf.append(nowNanoseconds() - t)
    }
    let p50b = percentile(bare, 0.5), p50e = percentile(enforced, 0.5)
    let p99b = percentile(bare, 0.99), p99e = percentile(enforced, 0.99)
    let sb = sysBare.sorted()[sysBare.count / 2], se = sysEnf.sorted()[sysEnf.count / 2]
    let startup = (percentile(startEnf, 0.5) - percentile(startBare, 0.5)) / 1e6
    print("kitsune-bench enforcer: \(bare.count) fork+exec of \(target) per side, \(rounds) alternating rounds"
          + (policy.isEmpty ? "" : ", policy \(policy)"))
    print("fork+exec p50  bare \(fmt(p50b / 1000, 1)) us  enforced \(fmt(p50e / 1000, 1)) us  ratio \(fmt(p50e / p50b))  (target <= 1.10)")
    print("fork+exec p99  bare \(fmt(p99b / 1000, 1)) us  enforced \(fmt(p99e / 1000, 1)) us  ratio \(fmt(p99e / p99b))")
    print("getppid x\(syscalls)  bare \(fmt(sb / 1e6, 1)) ms  enforced \(fmt(se / 1e6, 1)) ms  ratio \(fmt(se / sb))  (target <= 1.05)")
    print("supervisor peak RSS (VmHWM) after \(enforced.count) execs: \(peak) kB  (target <= 1536 kB)")
    print("start-up cost (median wall of enforcer+true minus true): \(fmt(startup)) ms  (target < 5 ms)")
}

if arguments.count > 1 && arguments[1] == "worker" { worker(arguments[2...]) }
if arguments.count > 1 && arguments[1] == "enforcer" { benchEnforcer(); exit(0) }
complain("usage: kitsune-bench enforcer --enforcer PATH [--iterations N] [--rounds N] [--syscalls N] [--target PATH] [--policy FILE]")
exit(2)
