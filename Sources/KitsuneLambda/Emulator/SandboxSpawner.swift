import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One bind mount of the sandbox.
struct SandboxMount: Equatable {
    var source: String
    var target: String
    var readOnly: Bool
    /// Bound as it is on the host (recursively, flags kept): the shadowed mount points.
    var passThrough = false
}

/// What to start inside the sandbox.
struct SpawnSpec {
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var mounts: [SandboxMount]
    var workingDirectory: String
    var uid: UInt32
    var gid: UInt32
    /// stdout and stderr of the process.
    var outputFD: Int32
}

/// A started sandbox process.
struct SpawnedProcess {
    var pid: pid_t
    /// A pidfd that becomes readable when the process exits (-1 when the kernel has none).
    var exitFD: Int32
}

/// Starts processes in a private mount namespace, unprivileged, with `no_new_privs`:
/// fork, then in the child only async-signal-safe system calls up to `execve`.
struct SandboxSpawner {
    private typealias UnshareFn = @convention(c) (Int32) -> Int32
    private typealias PrctlFn = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    private typealias CloseRangeFn = @convention(c) (UInt32, UInt32, Int32) -> Int32
    private typealias PidfdOpenFn = @convention(c) (pid_t, UInt32) -> Int32

    private static let stages = ["setsid", "unshare(CLONE_NEWNS)", "make / private", "bind mount", "read-only remount",
                                 "chdir", "stdio", "setgroups", "setgid", "setuid", "prctl(PR_SET_NO_NEW_PRIVS)", "execve"]

    /// Runs `spec`; `beforeRelease` is called with the child's pid before the child continues
    /// (used to put it into the sandbox cgroups).
    func spawn(_ spec: SpawnSpec, beforeRelease: (pid_t) -> Void) throws(EmulatorError) -> SpawnedProcess {
        let rtld = dlopen(nil, RTLD_NOW) // the program and its libraries (RTLD_DEFAULT is NULL on glibc)
        guard let unshareSym = dlsym(rtld, "unshare"), let prctlSym = dlsym(rtld, "prctl") else {
            throw .sandboxUnavailable("unshare/prctl are not available in this C library")
        }
        let unshareFn = unsafeBitCast(unshareSym, to: UnshareFn.self)
        let prctlFn = unsafeBitCast(prctlSym, to: PrctlFn.self)
        let closeRangeFn = dlsym(rtld, "close_range").map { unsafeBitCast($0, to: CloseRangeFn.self) }

        // Everything the child touches is allocated here, before fork.
        guard let cExe = strdup(spec.executable), let cwd = strdup(spec.workingDirectory), let root = strdup("/") else {
            throw .system("out of memory")
        }
        let argv = CStringArray(spec.arguments)
        let envp = CStringArray(spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        let mountSources = CStringArray(spec.mounts.map(\.source))
        let mountTargets = CStringArray(spec.mounts.map(\.target))
        let mountRO = spec.mounts.map(\.readOnly), mountPass = spec.mounts.map(\.passThrough)
        defer { free(cExe); free(cwd); free(root) }
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devnull >= 0 else { throw .system("open /dev/null: \(errnoText(errno))") }
        guard let sync = makePipe() else { close(devnull); throw .system("pipe: \(errnoText(errno))") }
        guard let err = makePipe() else {
            close(devnull); close(sync.read); close(sync.write)
            throw .system("pipe: \(errnoText(errno))")
        }
        let syncPipe = [sync.read, sync.write], errPipe = [err.read, err.write]
        let outFD = spec.outputFD, uid = spec.uid, gid = spec.gid
        let syncRead = syncPipe[0], errWrite = errPipe[1]
        let mountCount = spec.mounts.count
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        let pid = fork()
        if pid == 0 {
            func fail(_ stage: Int32) -> Never {
                var report: (Int32, Int32) = (stage, errno)
                _ = withUnsafeBytes(of: &report) { write(errWrite, $0.baseAddress, 8) }
                _exit(127)
            }
            var byte: UInt8 = 0
            _ = read(syncRead, &byte, 1)
            if setsid() < 0 { fail(0) }
            if unshareFn(0x0002_0000) != 0 { fail(1) } // CLONE_NEWNS
            if mount(nil, root, nil, UInt(MS_REC | MS_PRIVATE), nil) != 0 { fail(2) }
            var i = 0
            while i < mountCount {
                let target = mountTargets.pointers[i]
                if mount(mountSources.pointers[i], target, nil, UInt(MS_BIND | MS_REC), nil) != 0 { fail(3) }
                if mountPass[i] { i += 1; continue }
                var flags = UInt(MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
                if mountRO[i] { flags |= UInt(MS_RDONLY) }
                if mount(nil, target, nil, flags, nil) != 0 { fail(4) }
                i += 1
            }
            // The calling thread's blocked and ignored signals would survive execve: start clean.
            var sig: Int32 = 1
            while sig < 32 {
                if sig != SIGKILL && sig != SIGSTOP { signal(sig, SIG_DFL) }
                sig += 1
            }
            sigprocmask(SIG_SETMASK, &emptySet, nil)
            if chdir(cwd) != 0 { fail(5) }
            if dup2(devnull, 0) < 0 || dup2(outFD, 1) < 0 || dup2(outFD, 2) < 0 { fail(6) }
            if setgroups(0, nil) != 0 { fail(7) }
            if setgid(gid) != 0 { fail(8) }
            if setuid(uid) != 0 { fail(9) }
            if prctlFn(38, 1, 0, 0, 0) != 0 { fail(10) } // PR_SET_NO_NEW_PRIVS
            if let closeRangeFn { _ = closeRangeFn(3, UInt32.max, 4) } // CLOSE_RANGE_CLOEXEC
            execve(cExe, argv.pointers, envp.pointers)
            fail(11)
        }
        close(devnull)
        close(errWrite)
        guard pid > 0 else {
            let err = errno
            close(syncPipe[0]); close(syncPipe[1]); close(errPipe[0])
            throw .system("fork: \(errnoText(err))")
        }
        beforeRelease(pid)
        var go: UInt8 = 1
        _ = write(syncPipe[1], &go, 1)
        close(syncPipe[0]); close(syncPipe[1])
        var report: (Int32, Int32) = (0, 0)
        var got = 0
        while got < 8 {
            let n = withUnsafeMutableBytes(of: &report) { raw in
                read(errPipe[0], raw.baseAddress.map { $0 + got }, 8 - got)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        close(errPipe[0])
        if got == 8 {
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            let stage = Int(report.0) < Self.stages.count ? Self.stages[Int(report.0)] : "setup"
            let text = "\(stage) failed for \(spec.executable): \(errnoText(report.1))"
            if report.0 == 11 {
                throw .runtimeUnavailable(text + " (as uid \(uid) inside the sandbox)")
            }
            throw .sandboxUnavailable(text + (report.0 <= 4 ? " (a private mount namespace needs root or CAP_SYS_ADMIN)" : ""))
        }
        let pidfdOpen = dlsym(rtld, "pidfd_open").map { unsafeBitCast($0, to: PidfdOpenFn.self) }
        var exitFD: Int32 = -1
        if let pidfdOpen {
            exitFD = pidfdOpen(pid, 0)
            if exitFD >= 0 { _ = fcntl(exitFD, F_SETFD, FD_CLOEXEC) }
        }
        withExtendedLifetime((argv, envp, mountSources, mountTargets)) {}
        return SpawnedProcess(pid: pid, exitFD: exitFD)
    }
}

/// A NULL-terminated C string array that frees itself.
final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (i, s) in strings.enumerated() { pointers[i] = strdup(s) }
        pointers[strings.count] = nil
    }

    deinit {
        for i in 0..<count { free(pointers[i]) }
        pointers.deallocate()
    }
}
