import Foundation

/// Prints the demo for a human (text) or a machine (one JSON object per line).
public struct DemoRenderer: Sendable {
    /// Longest line of the function's output shown before it is clipped.
    public var clip: Int

    /// A renderer clipping output lines at `clip` characters.
    public init(clip: Int = 110) {
        self.clip = clip
    }

    // MARK: - text

    /// What is about to run: the function, the layer and the policy.
    public func header(story: DemoStory, host: DemoHost, modes: [DemoMode]) -> String {
        let fn = story.function
        return """
        Kitsune demo: a deliberately vulnerable "convert this document URL" Lambda function in the local emulator
          function  \(fn.name) (\(host.runtime), AWS awslambdaric, \(fn.source)): the URL is pasted into a shell command
          layer     kitsune-enforcer wraps the runtime (AWS_LAMBDA_EXEC_WRAPPER=\(LayerBuilder.wrapperPath))
          policy    the layer's default policy, mode \(modes.map(\.rawValue).joined(separator: " then ")), plus allow: [\(fn.allow.joined(separator: ", "))]

        """
    }

    /// One step: the request, the answer, the REPORT figures, Kitsune's events and the verdict
    /// (preceded by the mode's banner on the mode's first step).
    public func render(_ r: DemoStepResult) -> String {
        var out: [String] = []
        if r.index == 0 { out += banner(r) }
        out.append("[\(r.mode.rawValue) \(r.index + 1)/\(r.count)] \(r.step.title)")
        out.append(row("request", "url = \(quoted(r.step.url))"))
        out += answer(r)
        out.append(row("REPORT", report(r.report)))
        let events = collapsed(r.events)
        if events.isEmpty { out.append(row("kitsune", "no events")) }
        for (event, count) in events { out.append(row("kitsune", line(event, count: count, rule: r.step.rule))) }
        if let rule = r.step.rule, !r.events.contains(where: { $0.reasons.contains(rule) || $0.reason == rule }) {
            if rule == "honeypot" {
                let why = r.honeypotConfigured
                    ? "this enforcer build did not report the decoy credentials being read"
                    : "the layer's default policy has no `honeypot:` section in this build (no decoys planted)"
                out.append(row("note", "no `honeypot` event: \(why)"))
            } else if r.outcome == .blocked, let first = r.headline {
                out.append(row("note", "stopped at \((first.about as NSString).lastPathComponent) (\(first.reason ?? "?")) before the `\(rule)` rule"
                               + " came into play; audit mode shows the whole chain"))
            }
        }
        var verdict = r.outcome.rawValue.uppercased() + cell(r).dropFirst(r.outcome.rawValue.count)
        if let problem = r.problem { verdict += "   !! \(problem)" }
        out.append(row("=>", verdict))
        return out.joined(separator: "\n") + "\n"
    }

    /// The mode × request table and the verdict.
    public func summary(_ run: DemoRun) -> String {
        let labels = run.story.steps.map(\.label)
        let first = max(labels.map(\.count).max() ?? 0, 7) + 2
        let cells = run.story.steps.map { step in run.modes.map { mode in run.result(mode, step.id).map(cell) ?? "-" } }
        let width = max(cells.flatMap { $0 }.map(\.count).max() ?? 0, 7) + 2
        var out = ["Summary"]
        out.append(trimmed("  " + pad("request", first) + run.modes.map { pad($0.rawValue, width) }.joined()))
        for (i, label) in labels.enumerated() {
            out.append(trimmed("  " + pad(label, first) + cells[i].map { pad($0, width) }.joined()))
        }
        out.append("")
        if run.problems.isEmpty {
            let enforce = run.modes.contains(.enforce) ? "every attack was blocked in enforce mode (the decoy credentials are let through, and reported), and " : ""
            out.append("As expected: \(enforce)the legitimate request was served.")
        } else {
            out.append("NOT as expected:")
            out += run.problems.map { "  - \($0)" }
        }
        if let kept = run.keptWorkspace { out.append("Working directory kept: \(kept.path)") }
        return out.joined(separator: "\n") + "\n"
    }

    /// A table cell: `succeeded`, or the outcome with the headline event's reason and file
    /// (`blocked (not_allowlisted: cat, +honeypot)` when the step's rule is among its other reasons).
    public func cell(_ r: DemoStepResult) -> String {
        guard r.step.attack, let e = r.headline else { return r.outcome.rawValue }
        var text = "\(r.outcome.rawValue) (\(e.reason ?? "?"): \((e.about as NSString).lastPathComponent)"
        if let rule = r.step.rule, e.reason != rule, e.reasons.contains(rule) { text += ", +\(rule)" }
        return text + ")"
    }

    private func banner(_ r: DemoStepResult) -> [String] {
        var out = ["", "== \(r.mode.rawValue) mode (one cold start; the layer's policy says `mode: \(r.mode.rawValue)`) =="]
        if let s = r.started {
            let off = s.notEnforced.isEmpty ? "nothing" : s.notEnforced.joined(separator: ", ")
            out.append("   kitsune-enforcer started in \(s.mode ?? "?") mode; not enforced here: \(off)")
        } else {
            out.append("   kitsune-enforcer did not report starting (no `started` event in the init logs)")
        }
        out.append("")
        return out
    }

    private func answer(_ r: DemoStepResult) -> [String] {
        let a = r.answer
        var out: [String] = []
        if let type = a.errorType {
            out.append(row("answer", "\(type): \(clipped(firstLine(a.stderr)))"))
            let logLines = r.logs.split(separator: "\n").filter { !$0.hasPrefix("{\"time\"") }.prefix(3)
            out += logLines.map { row("log", clipped(String($0))) }
            return out
        }
        let lines = a.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        var text = "exit \(a.code.map(String.init) ?? "?"): \(clipped(lines.first ?? "(no output)"))"
        if lines.count > 1 { text += "  (+\(lines.count - 1) more lines)" }
        out.append(row("answer", text))
        if let evidence = r.step.evidence, r.evidenceSeen, !(lines.first ?? "").contains(evidence),
           let proof = (lines + a.stderr.split(separator: "\n").map(String.init)).first(where: { $0.contains(evidence) }) {
            out.append(row("", "it worked: \(clipped(proof))"))
        }
        let err = firstLine(a.stderr)
        if !err.isEmpty { out.append(row("", "stderr: \(clipped(err))")) }
        return out
    }

    private func report(_ report: InvocationReport) -> String {
        var s = "Duration: \(InvocationReport.ms(report.durationMs)) ms  Billed Duration: \(report.billedDurationMs) ms"
            + "  Max Memory Used: \(report.maxMemoryUsedMB) MB"
        if let initMs = report.initDurationMs { s += "  Init Duration: \(InvocationReport.ms(initMs)) ms" }
        if let status = report.status { s += "  Status: \(status)" }
        return s
    }

    /// `BLOCKED  drift  /tmp/m  argv: /tmp/m --version  (also: not_allowlisted)  request …`
    private func line(_ e: DemoEvent, count: Int, rule: String?) -> String {
        var what = e.about
        if let target = e.target, let exe = e.executable, target != exe { what += " (run through \(exe))" }
        if let access = e.access { what += " (\(access))" }
        var s = pad(e.action.uppercased(), 9) + pad(e.reason ?? "?", 16) + " " + what
        if !e.argv.isEmpty { s += "   argv: " + clipped(e.argv.joined(separator: " "), 60) }
        let others = e.reasons.filter { $0 != e.reason }
        if !others.isEmpty { s += "   (also: \(others.joined(separator: ", ")))" }
        if let id = e.requestId { s += "   request \(id)" }
        if count > 1 { s += "   (\(count) attempts: the shell searched PATH)" }
        return s
    }

    /// Consecutive identical decisions counted once.
    private func collapsed(_ events: [DemoEvent]) -> [(DemoEvent, Int)] {
        var out: [(DemoEvent, Int)] = []
        for e in events {
            if let last = out.last, last.0.repeats(e) { out[out.count - 1].1 += 1 } else { out.append((e, 1)) }
        }
        return out
    }

    private func row(_ label: String, _ text: String) -> String { "    " + pad(label, 9) + text }
    private func trimmed(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }
    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    private func firstLine(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
    }
    private func clipped(_ s: String, _ n: Int? = nil) -> String {
        let limit = n ?? clip
        return s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
    }
    private func quoted(_ s: String) -> String { s.contains(" ") ? "'\(s)'" : s }

    // MARK: - JSON

    /// One step as a JSON object on one line (`"type": "step"`), with the enforcer's events as written.
    public func json(_ r: DemoStepResult) -> String {
        let events: [Any] = r.events.map { e in
            (try? JSONSerialization.jsonObject(with: Data(e.raw.utf8))) ?? e.raw
        }
        var report: [String: Any] = ["duration_ms": r.report.durationMs, "billed_duration_ms": r.report.billedDurationMs,
                                     "max_memory_used_mb": r.report.maxMemoryUsedMB, "line": r.report.line]
        report["init_duration_ms"] = r.report.initDurationMs
        report["status"] = r.report.status
        var answer: [String: Any] = ["stdout": r.answer.stdout, "stderr": r.answer.stderr]
        answer["code"] = r.answer.code
        answer["error_type"] = r.answer.errorType
        var object: [String: Any] = [
            "type": "step", "mode": r.mode.rawValue, "step": r.step.id, "index": r.index + 1, "title": r.step.title,
            "url": r.step.url, "attack": r.step.attack, "request_id": r.requestId, "status": r.status.rawValue,
            "answer": answer, "report": report, "outcome": r.outcome.rawValue, "evidence_seen": r.evidenceSeen,
            "events": events,
        ]
        object["rule"] = r.step.rule
        object["reason"] = r.headline?.reason
        object["problem"] = r.problem
        return Self.encode(object)
    }

    /// The run's verdict as a JSON object on one line (`"type": "summary"`).
    public func json(_ run: DemoRun) -> String {
        var outcomes: [String: Any] = [:]
        for mode in run.modes {
            var row: [String: String] = [:]
            for s in run.steps where s.mode == mode { row[s.step.id] = s.outcome.rawValue }
            outcomes[mode.rawValue] = row
        }
        var object: [String: Any] = ["type": "summary", "exit_code": Int(run.exitCode), "runtime": run.runtime,
                                     "modes": run.modes.map(\.rawValue), "outcomes": outcomes, "problems": run.problems]
        object["workspace"] = run.keptWorkspace?.path
        return Self.encode(object)
    }

    static func encode(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{\"type\":\"error\",\"message\":\"cannot encode the demo result\"}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
