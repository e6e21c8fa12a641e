// `KITSUNE_INIT_PROFILE=1` (benchmarks only: bench/init-profile.sh): where the enforcer's part of a
// cold start goes. The enforcer writes on standard error, each a single line starting with
// `kitsune-init-profile:`, the microseconds since its own start at which each start-up phase ended
// (the parent's phases, then the child's: Landlock, seccomp filter, exec), and after each 10 ms
// without a notification the number of seccomp notifications answered so far, by syscall. Without the variable nothing is measured:
// the profile is nil, no clock is read and no notification counted.
import CKitsuneSys

/// Phase timestamps of one start (the parent's side).
struct InitProfile {
    /// CLOCK_MONOTONIC at the enforcer's start, in nanoseconds (the child's marks are relative to it too).
    let origin: Int64
    var marks: [(StaticString, Int64)] = []

    /// A profile when `KITSUNE_INIT_PROFILE=1`, else nil.
    static func start() -> InitProfile? {
        guard environment("KITSUNE_INIT_PROFILE") == [49] else { return nil }
        return InitProfile(origin: ks_monotonic_ns())
    }

    /// The phase `name` ends now.
    mutating func mark(_ name: StaticString) { marks.append((name, ks_monotonic_ns())) }

    /// `kitsune-init-profile: parent a=US b=US …` (microseconds since the start).
    func line(_ side: StaticString) -> Bytes {
        Self.render(side, marks, origin: origin)
    }

    static func render(_ side: StaticString, _ marks: [(StaticString, Int64)], origin: Int64) -> Bytes {
        var out = Bytes(literal: "kitsune-init-profile: ") + Bytes(literal: side)
        for (name, t) in marks {
            out.append(32)
            out.append(contentsOf: Bytes(literal: name))
            out.append(61)
            out.append(contentsOf: decimalBytes(Int((t - origin) / 1000)))
        }
        out.append(10)
        return out
    }
}

/// Notifications answered, by syscall (profiling only).
struct NotificationCounts {
    var execve = 0, mmap = 0, mprotect = 0, other = 0
    /// When the first notification arrived (the command's own exec), CLOCK_MONOTONIC.
    var first: Int64 = 0

    var total: Int { execve + mmap + mprotect + other }

    mutating func count(_ nr: Int32) {
        if first == 0 { first = ks_monotonic_ns() }
        if nr == Syscall.execve.rawValue || nr == Syscall.execveat.rawValue { execve += 1 }
        else if nr == Syscall.mmap.rawValue { mmap += 1 }
        else if nr == Syscall.mprotect.rawValue || nr == Syscall.pkey_mprotect.rawValue { mprotect += 1 }
        else { other += 1 }
    }

    /// `kitsune-init-profile: notifications execve=N mmap=N mprotect=N other=N first=US`.
    func line(origin: Int64) -> Bytes {
        var out = Bytes(literal: "kitsune-init-profile: notifications")
        for (name, n) in [("execve", execve), ("mmap", mmap), ("mprotect", mprotect), ("other", other)] as [(StaticString, Int)] {
            out.append(32)
            out.append(contentsOf: Bytes(literal: name))
            out.append(61)
            out.append(contentsOf: decimalBytes(n))
        }
        out.append(contentsOf: Bytes(literal: " first="))
        out.append(contentsOf: decimalBytes(first == 0 ? -1 : Int((first - origin) / 1000)))
        out.append(10)
        return out
    }
}
