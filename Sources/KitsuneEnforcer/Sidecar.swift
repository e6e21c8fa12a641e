// The sidecar: a process forked by the enforcer before the command, outside the sandbox, that does
// the Lambda-facing work so the supervisor's loop stays about exec decisions only:
// - relays the Runtime API (request ids for events; events shipped before a response leaves);
// - watches the honeypot files (inotify: an open by any process of the sandbox is reported);
// - ships events to KITSUNE_EVENTS_URL.
// It exists only when one of these is configured, and exits when the supervisor (and the audit
// standby) are gone, after a last flush.
import CKitsuneSys

/// Everything the sidecar is given at fork time.
struct SidecarSetup {
    var relay: RuntimeRelay?
    /// Request ids from the Extensions API's INVOKE events, when there is no relay (``InvocationWatch``).
    var invocations: InvocationWatch?
    /// The decoy files: written (``PlantedHoneypots/toWrite``) and watched by the sidecar as it starts.
    var decoys = PlantedHoneypots()
    /// Write end of the pipe the command waits on before its exec: closed once the decoys are watched.
    var ready: Int32 = -1
    var watch: HoneypotWatch?
    var shipper: EventShipper?
    /// Read end of the event copies written by the supervisor (end of file: nobody left to protect).
    var events: Int32
    /// Where the sidecar's own events go; its `invocation` page is where request ids are published.
    var sink: EventSink
    /// Read buffer for the event pipe, kept across reads (the relay's hot path allocates nothing).
    var scratch: Bytes = []
}

/// The parent's side: the sidecar's pid and the write end of its event pipe.
struct SidecarHandle {
    let pid: Int32
    let events: Int32
}

/// Fork the sidecar. In the parent, the relay's listener and the pipe's read end are closed.
func startSidecar(_ setup: SidecarSetup, eventsWriteEnd: Int32) -> SidecarHandle? {
    let pid = ks_fork()
    if pid < 0 { return nil }
    if pid == 0 {
        _ = ks_set_dumpable(0)
        _ = ks_close(eventsWriteEnd)
        _ = ks_ignore_signal(13)
        var loop = setup
        loop.run()
    }
    if let r = setup.relay { _ = ks_close(r.listener) }
    if setup.ready >= 0 { _ = ks_close(setup.ready) }
    _ = ks_close(setup.events)
    return SidecarHandle(pid: pid, events: eventsWriteEnd)
}

/// Close the event pipe (the sidecar's cue to flush and exit) and wait for it, bounded.
func stopSidecar(_ s: SidecarHandle, timeoutMs: Int) {
    _ = ks_close(s.events)
    let deadline = ks_monotonic_ns() + Int64(timeoutMs) * 1_000_000
    var status: Int32 = 0
    // Done, or already reaped by the subreaper loop.
    if reapChild(s.pid, by: deadline, stepMs: 5, status: &status) { return }
    _ = ks_kill(s.pid, ks_sigkill())
    _ = ks_waitpid(s.pid, &status, 0)
}

extension SidecarSetup {
    /// The sidecar's poll loop. Never returns.
    mutating func run() -> Never {
        // Decoy files first (file-system metadata writes, done here beside the command's start rather
        // than before it), then their watch; only then the relay's first accept, the extension's
        // first request for an event, or (with neither) the end of file the command's exec waits for.
        for d in decoys.toWrite { _ = plantFile(d.path, content: d.content) }
        watch = HoneypotWatch(files: decoys.files)
        if ready >= 0 { _ = ks_close(ready); ready = -1 }
        var pending: Bytes = []
        let standalone = relay == nil           // no invocation edges: ship as events arrive
        if let v = invocations, !v.next() { v.close(); invocations = nil }
        scratch = readBuffer(16384)
        // What the supervisor allocated and freed before the fork is still resident here, copied on
        // the first write: give it back before the loop starts.
        ks_release_free_memory()
        // The poll set, rebuilt in place each round (no allocation once it has grown). The relay's
        // connections come first and the event pipe and the decoy watch last: poll(2) looks at them
        // in this order, so when a runtime message that was already waiting is seen, anything the
        // invocation caused before sending it (an event written before a syscall was answered, an
        // inotify record queued before open() returned) is seen by the same poll.
        var fds: [Int32] = [], wanted: [Int16] = [], rev: [Int16] = []
        fds.reserveCapacity(Int(KS_POLL_MAX)); wanted.reserveCapacity(Int(KS_POLL_MAX)); rev.reserveCapacity(Int(KS_POLL_MAX))
        while true {
            fds.removeAll(keepingCapacity: true)
            let relayBase = 0
            if let r = relay {
                fds.append(r.listener)
                for p in r.pairs { fds.append(p.client); fds.append(p.upstream) }
            }
            let relayEnd = fds.count
            fds.append(events)
            if let w = watch { fds.append(w.fd) }
            let invocationSlot = fds.count
            if let v = invocations { fds.append(v.fd) }
            while wanted.count < fds.count { wanted.append(1) }
            while wanted.count > fds.count { wanted.removeLast() }
            rev.removeAll(keepingCapacity: true)
            for _ in 0..<fds.count { rev.append(0) }
            let r = fds.withUnsafeBufferPointer { f in wanted.withUnsafeBufferPointer { e in rev.withUnsafeMutableBufferPointer {
                ks_poll_many(f.baseAddress, e.baseAddress, Int32(f.count), $0.baseAddress, -1)
            } } }
            if r < 0 { continue }
            // Events and decoy accesses first: an invocation edge below then finds them queued.
            if rev[relayEnd] != 0 {
                if !readEvents(&pending) { finish() }
                if standalone { shipper?.flush(errors: sink) }
            }
            if watch != nil && rev[relayEnd + 1] != 0 { drainWatch() ; if standalone { shipper?.flush(errors: sink) } }
            if var v = invocations, rev[invocationSlot] != 0 {
                invocations = nil
                if v.pump({ handle($0, &pending) }) {
                    invocations = v
                } else {
                    // No more request ids: events say none rather than a stale one.
                    v.close()
                    sink.invocation?.write([])
                }
            }
            guard var rl = relay else { continue }
            relay = nil                          // moved out while it is pumped (no copy of its buffer)
            if rev[relayBase] & 1 != 0 { rl.accept() }
            // Pairs in reverse so removals do not shift the ones still to visit.
            var i = (relayEnd - relayBase - 1) / 2 - 1
            while i >= 0 {
                let c = rev[relayBase + 1 + 2 * i]
                let u = rev[relayBase + 2 + 2 * i]
                var open = true
                if c & 1 != 0 { open = rl.pumpRequests(i) { handle($0, &pending) } }
                if open && u & 1 != 0 { open = rl.pumpResponses(i) { handle($0, &pending) } }
                if open && (c | u) & 3 == 2 { open = false }      // hung up with nothing left to read
                if !open { rl.close(i) }
                i -= 1
            }
            relay = rl
        }
    }

    mutating func handle(_ s: RelaySignal, _ pending: inout Bytes) {
        switch s {
        case .invocation(let id):
            sink.invocation?.write(id)
        case .account(let id):
            sink.instance?.account.write(id)
        case .invocationEdge(let fresh):
            // Everything this invocation caused is already queued: the supervisor writes an event
            // before it answers the syscall, inotify queues an open before open() returns. For a
            // fresh message the poll that saw it saw those too, and they were read above; otherwise
            // (a head split across reads, or several messages in one read) they are read now.
            if !fresh {
                _ = readEvents(&pending)
                drainWatch()
            }
            shipper?.flush(errors: sink)
        }
    }

    /// Read the supervisor's event copies (non-blocking). False at end of file.
    mutating func readEvents(_ pending: inout Bytes) -> Bool {
        if scratch.isEmpty { scratch = readBuffer(16384) }
        while true {
            let fd = events
            let n = scratch.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return false }
            if n < 0 { return true }            // EAGAIN: nothing more for now
            pending += scratch[0..<Int(n)]
            while let nl = pending.firstIndex(of: 10) {
                shipper?.enqueue(Bytes(pending[..<nl]))
                pending.removeFirst(nl + 1)
            }
        }
    }

    mutating func drainWatch() {
        guard var w = watch else { return }
        let sink = self.sink
        var lines: [Bytes] = []
        w.drain { file, access in
            var e = sink.header(action: "reported")
            e.string("reason", "honeypot")
            e.strings("reasons", [Bytes(literal: "honeypot")])
            e.string("file", file)
            e.string("access", access)
            e.string("detail", "a decoy credentials file planted by kitsune was touched; nothing legitimate uses it")
            sink.lambdaFields(&e, requestID: nil)
            lines.append(sink.emit(e))
        }
        watch = w
        for l in lines { shipper?.enqueue(l) }
    }

    /// The supervisor is gone: last flush, then exit.
    mutating func finish() -> Never {
        drainWatch()
        shipper?.flush(errors: sink)
        ks_exit(0)
    }
}

/// What the command is started with once the sidecar is in place.
struct SidecarLaunch {
    var handle: SidecarHandle?
    /// The command's environment: the enforcer's own, with the relay's address and the decoys.
    var environment: [Bytes]
    /// Read end of the sidecar's ready pipe (end of file: the decoy files are planted and watched), or -1.
    var ready: Int32 = -1
}

/// Plant the honeypots, then start the sidecar if anything needs it (a relay when the Runtime API is
/// in the environment, a watch on decoy files, a shipper). `sink` gains the event pipe and the
/// invocation page. Returns nil (with a message) when a configured part cannot be set up.
func launchSidecar(policy: inout Policy, sink: inout EventSink, shipper: EventShipper?,
                   profile: inout InitProfile?) -> (SidecarLaunch?, Bytes) {
    var env: [Bytes] = []
    if let envp = ks_envp() {
        var i = 0
        while let e = envp[i] { env.append(bytes(ofCString: e)); i += 1 }
    }
    // The collector's token is the enforcer's secret, not the function's.
    env.removeAll { $0.hasPrefix(Bytes(literal: "KITSUNE_EVENTS_TOKEN=")) }
    let planted = policy.honeypot.isEnabled ? plantHoneypots(&policy) : PlantedHoneypots()
    env += planted.environment
    profile?.mark("honeypots")
    var relay: RuntimeRelay?
    var invocations: InvocationWatch?
    let apiVar = Bytes(literal: "AWS_LAMBDA_RUNTIME_API")
    let choice = environment("KITSUNE_RUNTIME_RELAY")
    if let api = environment("AWS_LAMBDA_RUNTIME_API"), choice != Bytes(literal: "off") {
        guard let (ip, port) = RuntimeRelay.upstream(api) else {
            return (nil, Bytes(literal: "AWS_LAMBDA_RUNTIME_API=") + api + Bytes(literal: ": expected HOST:PORT with an IPv4 host"))
        }
        // `KITSUNE_RUNTIME_RELAY=extension`: the request ids come from INVOKE events beside the
        // function, whose own bytes go straight to the API (its response reaches the caller without
        // crossing the sidecar). Not with a shipper, which must hold a response back until the events
        // it caused are delivered; and the relay takes over when the Extensions API refuses.
        if shipper == nil && choice == Bytes(literal: "extension") {
            invocations = InvocationWatch.register(ip: ip, port: port, host: api, timeoutMs: 2000)
        }
        if invocations == nil {
            var listenPort: Int32 = 0
            let l = ks_tcp_listen_loopback(&listenPort)
            if l < 0 { return (nil, Bytes(literal: "cannot listen on 127.0.0.1 for the Runtime API relay: ") + errorText(-l)) }
            relay = RuntimeRelay(listener: l, upstreamIP: ip, upstreamPort: port)
            env = env.map { $0.hasPrefix(apiVar + [61]) ? apiVar + Bytes(literal: "=127.0.0.1:") + decimalBytes(Int(listenPort)) : $0 }
        }
    }
    profile?.mark("runtime_api")
    guard relay != nil || invocations != nil || !planted.files.isEmpty || shipper != nil else {
        return (SidecarLaunch(handle: nil, environment: env), [])
    }
    var pipe: [Int32] = [0, 0]
    guard pipe.withUnsafeMutableBufferPointer({ ks_pipe($0.baseAddress) }) == 0 else { return (nil, Bytes(literal: "pipe failed")) }
    _ = ks_set_nonblock(pipe[0])
    _ = ks_set_nonblock(pipe[1])
    let invocation = relay != nil || invocations != nil ? SharedText() : nil
    var own = sink
    own.invocation = invocation
    // The sidecar writes the decoy files as it starts, off the command's way. Before the first
    // invocation they exist and are watched: the relay accepts the runtime's first connection, and the
    // extension asks for its first event, only after. Without either, the command's exec waits.
    var ready: [Int32] = [-1, -1]
    if !planted.files.isEmpty && relay == nil && invocations == nil {
        guard ready.withUnsafeMutableBufferPointer({ ks_pipe($0.baseAddress) }) == 0 else { return (nil, Bytes(literal: "pipe failed")) }
    }
    let setup = SidecarSetup(relay: relay, invocations: invocations, decoys: planted, ready: ready[1], watch: nil,
                             shipper: shipper, events: pipe[0], sink: own)
    profile?.mark("watch")
    guard let handle = startSidecar(setup, eventsWriteEnd: pipe[1]) else { return (nil, Bytes(literal: "fork failed")) }
    sink.forward = pipe[1]
    sink.invocation = invocation
    // The supervisor keeps the Extensions API connection open (never reads it): an event waits,
    // bounded, while an INVOKE is still unread there, so that it names the new invocation.
    sink.invocationSocket = invocations?.fd ?? -1
    sink.requestIDSource = invocations != nil ? .extension : (relay != nil ? .relay : .none)
    return (SidecarLaunch(handle: handle, environment: env, ready: ready[0]), [])
}

/// Free what ``cStringArray(_:)`` allocated.
func freeCStringArray(_ array: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, count: Int) {
    for i in 0..<count { array[i]?.deallocate() }
    array.deallocate()
}

/// A NULL-terminated C string array (for execve), allocated for the life of the process.
func cStringArray(_ items: [Bytes]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
    let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: items.count + 1)
    for (i, item) in items.enumerated() {
        let s = UnsafeMutablePointer<CChar>.allocate(capacity: item.count + 1)
        for (k, b) in item.enumerated() { s[k] = CChar(bitPattern: b) }
        s[item.count] = 0
        array[i] = s
    }
    array[items.count] = nil
    return array
}
