// Audit mode fails open: a standby process holds a copy of the notification listener and takes
// over if the supervisor dies, so the kernel never has to refuse the protected tree's syscalls
// (with no listener left, seccomp user notification fails every notified syscall with ENOSYS,
// which is exactly the fail-closed behaviour wanted in enforce mode, where there is no standby).
import CKitsuneSys

/// The supervisor's end of the standby.
struct Standby {
    let pid: Int32
    /// Socket to hand the listener over.
    let socket: Int32
    /// Write end of the liveness pipe; closes when the supervisor dies.
    let alive: Int32

    /// Shared with the supervisor: the id of the notification it is deciding (0 when idle). A
    /// notification the supervisor received but never answered is invisible to other readers of
    /// the listener, so the standby answers it on takeover.
    let inFlight: UnsafeMutablePointer<UInt64>
    /// Shared too: the wrapped command's pid, published before the listener is handed over (the
    /// standby is forked before the command, and its events' `ancestors` stop there).
    var commandPid: UnsafeMutablePointer<UInt64> { inFlight + 1 }

    /// Fork the standby. It waits for the listener, then for the supervisor to go away.
    /// `makeSupervisor` gets the listener and the command's pid.
    static func start(makeSupervisor: (Int32, Int) -> Supervisor, sink: EventSink) -> Standby? {
        guard let shared = ks_shared_words() else { return nil }
        let inFlight = UnsafeMutablePointer<UInt64>(mutating: UnsafePointer(shared))
        var pipe: [Int32] = [0, 0]
        var pair: [Int32] = [0, 0]
        guard pipe.withUnsafeMutableBufferPointer({ ks_pipe($0.baseAddress) }) == 0 else { return nil }
        guard pair.withUnsafeMutableBufferPointer({ ks_socketpair($0.baseAddress) }) == 0 else { return nil }
        let pid = ks_fork()
        if pid < 0 { return nil }
        if pid == 0 {
            _ = ks_set_dumpable(0)
            _ = ks_close(pipe[1])
            _ = ks_close(pair[0])
            let null = withCPath(Bytes(literal: "/dev/null")) { ks_open($0, ks_o_rdonly(), 0) }
            if null >= 0 {
                _ = ks_dup2(null, 0)
                if sink.fd != 1 { _ = ks_dup2(null, 1) }
                _ = ks_close(null)
            }
            let listener = ks_recv_fd(pair[1])
            if listener < 0 { ks_exit(0) }
            // Wait until the supervisor is gone: a byte means it finished normally (the command
            // exited), end of file without one means it was killed.
            var byte: [UInt8] = [0]
            let n = byte.withUnsafeMutableBufferPointer { ks_read(pipe[0], $0.baseAddress, 1) }
            var fds: [Int32] = [listener]
            var rev: [Int16] = [0]
            if n == 1 {
                let r = fds.withUnsafeBufferPointer { f in rev.withUnsafeMutableBufferPointer { ks_poll(f.baseAddress, 1, $0.baseAddress, 0) } }
                if r <= 0 || rev[0] & 2 != 0 { ks_exit(0) }     // nothing left to watch
            } else {
                reportLoss(sink)
                let orphan = inFlight.pointee
                if orphan != 0 { _ = ks_notif_respond(listener, orphan, 0) }
            }
            var supervisor = makeSupervisor(listener, Int(inFlight[1]))
            while true {
                let r = fds.withUnsafeBufferPointer { f in rev.withUnsafeMutableBufferPointer { ks_poll(f.baseAddress, 1, $0.baseAddress, -1) } }
                if r < 0 { ks_exit(1) }
                if rev[0] & 1 != 0 { if !supervisor.serveOne() { ks_exit(0) } }
                else if rev[0] & 2 != 0 { ks_exit(0) }   // no protected process left
            }
        }
        _ = ks_close(pipe[0])
        _ = ks_close(pair[1])
        return Standby(pid: pid, socket: pair[0], alive: pipe[1], inFlight: inFlight)
    }

    /// Tell the standby the supervisor is finishing normally.
    func release() {
        writeAll(alive, [1])
    }

    static func reportLoss(_ sink: EventSink) {
        var lost = sink.header(action: "reported")
        lost.string("reason", "supervisor_lost")
        lost.string("detail", "the supervisor died; the audit standby continues (audit mode fails open)")
        lost.int("pid", Int(ks_getpid()))
        sink.lambdaFields(&lost, requestID: nil)
        sink.emit(lost)
    }
}
