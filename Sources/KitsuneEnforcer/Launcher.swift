// The enforcer's life: parse, validate, probe, lock the child down, supervise, exit like the child.
import CKitsuneSys

/// Run the enforcer; the return value is the process exit status.
func runEnforcer() -> Int32 {
    var profile = InitProfile.start()
    let argv = processArguments()
    let options: Options
    do throws(UsageError) {
        if let wrapper = try execWrapperOptions(argv, ownExecutable: { readLink(Bytes(literal: "/proc/self/exe")) }) { options = wrapper } else { options = try parseArguments(argv) }
    } catch {
        complain(error.message)
        return 2
    }
    if options.help { writeAll(1, Array(usageText.utf8)); return 0 }
    if options.version { writeAll(1, versionLine(program: "kitsune-enforcer", commit: buildCommit())); return 0 }
    let config: Configuration
    do { config = try loadConfiguration(options) } catch {
        complain(error.message)
        return 2
    }
    profile?.mark("policy")
    let kernel = Kernel.probe()
    let plan = Plan(kernel: kernel, policy: config.policy)
    profile?.mark("probe")
    if options.probe { writeAll(1, probeReport(kernel: kernel, plan: plan, config: config)); return 0 }
    if options.check { writeAll(1, policyReport(config)); return 0 }

    let (opened, openError) = EventSink.open(config.policy.events, mode: config.policy.mode)
    guard var sink = opened else { complain(openError); return 2 }
    sink.instance = EventInstance.start()
    var shipper: EventShipper?
    if let text = environment("KITSUNE_EVENTS_URL"), !text.isEmpty {
        let (url, why) = EventsURL.parse(text)
        guard let url else { complain(Bytes(literal: "KITSUNE_EVENTS_URL=") + text + Bytes(literal: ": ") + why); return 2 }
        let timeout = environment("KITSUNE_EVENTS_TIMEOUT_MS")?.decimalValue() ?? 2000
        shipper = EventShipper(url: url, token: environment("KITSUNE_EVENTS_TOKEN"), timeoutMs: max(100, min(timeout, 30_000)))
        shipper?.instanceID = sink.instance?.id
        if url.tls {
            let helper = shipHelperPath()
            guard withCPath(helper, { ks_access_x($0) }) == 0 else {
                complain(Bytes(literal: "KITSUNE_EVENTS_URL=") + text + Bytes(literal: ": https needs the kitsune-ship helper next to the enforcer (") + helper + Bytes(literal: "), and it is missing"))
                return 2
            }
            shipper?.helper = helper
        }
    }
    let commandArgv = Array(argv[options.commandIndex...])
    guard let command = resolveCommand(commandArgv[0]) else {
        complain(commandArgv[0] + Bytes(literal: ": command not found"))
        return 127
    }
    profile?.mark("events")
    return supervise(config: config, kernel: kernel, plan: plan, sink: sink, shipper: shipper, command: command,
                     commandArgv: commandArgv, argvOffset: options.commandIndex, profile: profile)
}

/// Fork the protected command and serve it until it exits.
func supervise(config: Configuration, kernel: Kernel, plan: Plan, sink initialSink: EventSink, shipper: EventShipper?,
               command: Bytes, commandArgv: [Bytes], argvOffset: Int, profile initialProfile: InitProfile? = nil) -> Int32 {
    var profile = initialProfile
    let foreground = ks_isatty(0) == 1 && ks_tcgetpgrp(0) == ks_getpgrp()
    let sigfd = ks_signalfd_all()
    if sigfd < 0 { complain(Bytes(literal: "signalfd: ") + errorText(-sigfd)); return 2 }
    let me = ks_getpid()
    _ = ks_set_child_subreaper()
    var policy = config.policy
    // The function's real credentials, to recognise them where they do not belong.
    policy.credentialValues = policy.credentialVariables.compactMap { environment(bytes: $0) }.filter { !$0.isEmpty }
    var sink = initialSink
    let (launched, launchError) = launchSidecar(policy: &policy, sink: &sink, shipper: shipper, profile: &profile)
    guard let launch = launched else { complain(launchError); return 2 }
    profile?.mark("sidecar")
    let judge = ExecJudge(policy: policy, manifest: config.manifest)

    var standby: Standby?
    // Audit and learn fail open (a standby takes over); enforce fails closed.
    if plan.supervisor && plan.mode != .enforce {
        standby = Standby.start(makeSupervisor: { listener, command in
            Supervisor(listener: listener, judge: judge, sink: sink, initialPending: false, commandPid: command, enforcerPid: Int(me),
                       observed: ObservedPrograms.forMode(plan.mode))
        }, sink: sink)
    }
    profile?.mark("standby")
    var protectedPids = [me]
    if let s = standby { protectedPids.append(s.pid) }
    if let s = launch.handle { protectedPids.append(s.pid) }
    guard let filter = buildFilter(FilterSpec(plan: plan, protectedPids: protectedPids, protectedGroup: ks_getpgrp())) else {
        complain(Bytes(literal: "internal error: seccomp filter too large"))
        return 2
    }
    var pair: [Int32] = [0, 0]
    guard pair.withUnsafeMutableBufferPointer({ ks_socketpair($0.baseAddress) }) == 0 else {
        complain(Bytes(literal: "socketpair failed"))
        return 2
    }
    var setup = SandboxSetup(plan: plan, policy: policy, filter: filter,
                             allowFiles: kernelAllowFiles(policy: policy, command: command),
                             socket: pair[1], foreground: foreground, environment: cStringArray(launch.environment))
    if plan.landlock, ContainerRules.applies(config.manifest), let m = config.manifest {
        setup.container = ContainerRules.compute(policy: policy, manifest: m, abi: kernel.landlockABI, ownDirectory: ownDirectory())
    }
    profile?.mark("filter")
    setup.profileOrigin = profile?.origin
    setup.sidecarReady = launch.ready
    let child = ks_fork()
    if child < 0 { complain(Bytes(literal: "fork: ") + errorText(-child)); return 2 }
    if child == 0 {
        _ = ks_close(pair[0])
        enterSandbox(setup, command: command, argv: ks_argv()! + argvOffset)
    }
    _ = ks_close(pair[1])
    if launch.ready >= 0 { _ = ks_close(launch.ready) }
    // Same-uid processes may not ptrace us or read our memory. Only after the fork: the flag is
    // inherited, and a non-dumpable child could not be inspected before its first exec.
    _ = ks_set_dumpable(0)
    var listener: Int32 = -1
    var syncWakeup = false
    if plan.supervisor {
        listener = ks_recv_fd(pair[0])
        if listener < 0 { return waitForChild(child, sigfd: sigfd) }   // the child failed before exec; it said why
        profile?.mark("listener")
        // Each notification then hands the CPU straight to us and back (Linux >= 6.6; the flag
        // belongs to the filter, so the audit standby's copy has it too): no cross-CPU wake-ups.
        syncWakeup = kernel.trySyncWakeup && ks_notif_sync_wakeup(listener) == 0
    }
    _ = ks_close(pair[0])
    if let s = standby, listener >= 0 {
        s.commandPid.pointee = UInt64(child)
        _ = ks_send_fd(s.socket, listener)
        _ = ks_close(s.socket)
    }

    var started = sink.header(action: "started")
    started.string("version", enforcerVersion)
    started.int("pid", Int(me))
    started.int("command_pid", Int(child))
    started.strings("command", redactingCredentials(commandArgv, policy.credentialValues))
    if let s = launch.handle { started.int("sidecar_pid", Int(s.pid)) }
    started.bool("runtime_relay", sink.requestIDSource == .relay)
    started.string("request_ids", sink.requestIDSource.name)
    if let s = shipper { started.string("events_url", s.url.text) }
    describe(&started, kernel: kernel, plan: plan, config: config, syncWakeup: syncWakeup)
    containerFields(&started, started: true)
    sink.lambdaFields(&started, requestID: nil)
    sink.emit(started, seq: 1)
    profile?.mark("started")
    if let p = profile { writeAll(2, p.line("parent")) }
    // The start-up's temporaries (policy text, parse buffers) are freed: their pages go back.
    ks_release_free_memory()

    var supervisor = Supervisor(listener: listener, judge: judge, sink: sink, commandPid: Int(child), enforcerPid: Int(me),
                                inFlight: standby?.inFlight, observed: ObservedPrograms.forMode(plan.mode),
                                counts: profile == nil ? nil : NotificationCounts())
    let status = serve(&supervisor, child: child, sigfd: sigfd, profileOrigin: profile?.origin)
    standby?.release()
    if let s = launch.handle { stopSidecar(s, timeoutMs: (shipper?.timeoutMs ?? 0) + 1000) }
    return finish(status)
}

/// The poll loop. Returns the command's wait status. With `KITSUNE_INIT_PROFILE=1` (`profileOrigin`),
/// the notification counts so far are written after each 10 ms without a notification, when they
/// changed: the last line before the runtime's first invocation covers its cold start (the sandbox
/// may be frozen and killed without notice afterwards, as Lambda and the emulator do).
func serve(_ supervisor: inout Supervisor, child: Int32, sigfd: Int32, profileOrigin: Int64? = nil) -> Int32 {
    var fds: [Int32] = supervisor.listener >= 0 ? [sigfd, supervisor.listener] : [sigfd]
    var rev: [Int16] = [0, 0]
    let timeout: Int32 = profileOrigin == nil || supervisor.counts == nil ? -1 : 10
    var written = 0
    while true {
        let r = fds.withUnsafeBufferPointer { f in rev.withUnsafeMutableBufferPointer { ks_poll(f.baseAddress, Int32(f.count), $0.baseAddress, timeout) } }
        if r == 0, let origin = profileOrigin, let c = supervisor.counts {
            if c.total != written { writeAll(2, c.line(origin: origin)); written = c.total }
            continue
        }
        if r < 0 { continue }
        if rev[0] & 1 != 0 {
            while true {
                let sig = ks_signalfd_read(sigfd)
                if sig <= 0 { break }
                if sig == ks_sigchld() {
                    if let status = reap(child) { return status }
                } else if sig != 13 {          // SIGPIPE concerns only us
                    _ = ks_kill(child, sig)
                }
            }
        }
        if fds.count > 1 {
            if rev[1] & 1 != 0 {
                if !supervisor.serveOne() { fds.removeLast() }
            } else if rev[1] & 2 != 0 {
                fds.removeLast()               // no filtered process left
            }
        }
    }
}

/// Reap every exited child (we are a subreaper); the command's status when it is among them.
func reap(_ child: Int32) -> Int32? {
    var result: Int32?
    while true {
        var status: Int32 = 0
        let pid = ks_waitpid(-1, &status, 1)
        if pid <= 0 { return result }
        if pid == child { result = status }
    }
}

func waitForChild(_ child: Int32, sigfd: Int32) -> Int32 {
    var status: Int32 = 0
    _ = ks_waitpid(child, &status, 0)
    return finish(status)
}

/// Exit status of the enforcer for the command's wait status; re-raise a fatal signal.
func finish(_ status: Int32) -> Int32 {
    if ks_wifexited(status) != 0 { return ks_wexitstatus(status) }
    if ks_wifsignaled(status) != 0 { ks_die_by_signal(ks_wtermsig(status)) }
    return 1
}

/// PATH lookup for a bare command name, like execvp.
func resolveCommand(_ name: Bytes) -> Bytes? {
    if name.contains(47) { return name }
    let path = environment("PATH") ?? Bytes(literal: "/usr/local/bin:/usr/bin:/bin")
    for dir in path.split(separator: 58) where !dir.isEmpty {
        let candidate = dir + [47] + name
        if withCPath(candidate, { ks_access_x($0) }) == 0 {
            var st = ks_stat_t()
            if withCPath(candidate, { ks_stat_path($0, &st) }) == 0 && st.kind == 1 { return candidate }
        }
    }
    return nil
}
