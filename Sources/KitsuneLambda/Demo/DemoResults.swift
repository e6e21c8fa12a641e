import Foundation

/// One Kitsune event (a JSON line starting with `{"time"` in the function's logs, docs/events.md).
public struct DemoEvent: Sendable, Equatable {
    /// `started`, `blocked` or `reported`.
    public var action: String
    /// `enforce` or `audit`.
    public var mode: String?
    /// The most serious rule broken (decisions only).
    public var reason: String?
    /// Every rule broken, most serious first.
    public var reasons: [String]
    /// What was executed or mapped.
    public var executable: String?
    /// The file actually judged when different (a loader's program).
    public var target: String?
    /// The file that broke the rule when different again (a script, a preloaded library).
    public var subject: String?
    /// A file the event is about (e.g. a decoy that was opened), when the event names one.
    public var file: String?
    /// How `file` was accessed (e.g. `open`), when the event says.
    public var access: String?
    /// The arguments of the attempt.
    public var argv: [String]
    /// The process that made the attempt.
    public var pid: Int?
    /// The Lambda request id, when the enforcer put one in the event.
    public var requestId: String?
    /// `started` only: the controls that are not in force.
    public var notEnforced: [String]
    /// The line as the enforcer wrote it.
    public var raw: String

    /// The path the event is about: the subject, else the target, else the file, else the executable.
    public var about: String {
        subject ?? target ?? file ?? executable ?? "?"
    }

    /// Whether this is a decision (`blocked` / `reported`) rather than `started`.
    public var isDecision: Bool { action == "blocked" || action == "reported" }

    /// Parses one log line; `nil` when it is not a Kitsune event.
    public static func parse(_ line: Substring) -> DemoEvent? {
        guard line.hasPrefix("{\"time\""),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let action = object["action"] as? String else { return nil }
        func text(_ key: String) -> String? { object[key] as? String }
        func list(_ key: String) -> [String] { object[key] as? [String] ?? [] }
        return DemoEvent(action: action, mode: text("mode"), reason: text("reason"), reasons: list("reasons"),
                         executable: text("executable"), target: text("target"), subject: text("subject"),
                         file: text("file") ?? text("path"), access: text("access"), argv: list("argv"), pid: object["pid"] as? Int,
                         requestId: text("request_id"), notEnforced: list("not_enforced"), raw: String(line))
    }

    /// Every Kitsune event in an invocation's logs, in order.
    public static func events(in logs: String) -> [DemoEvent] {
        logs.split(separator: "\n").compactMap { parse($0) }
    }

    /// The same decision about the same process and file (a shell searching PATH tries `cp` as
    /// /usr/bin/cp and as /bin/cp, which are one file on merged-/usr systems: two identical events).
    func repeats(_ other: DemoEvent) -> Bool {
        action == other.action && reasons == other.reasons && about == other.about && pid == other.pid && argv == other.argv
    }
}

/// What the demo function answered.
public struct DemoAnswer: Sendable, Equatable {
    /// The shell command's standard output.
    public var stdout: String
    /// The shell command's standard error.
    public var stderr: String
    /// The shell command's exit status (`nil` when the function did not answer normally).
    public var code: Int?
    /// The error type when the invocation failed (`Runtime.ExitError`, `Sandbox.Timedout`, ...).
    public var errorType: String?

    /// Reads the function's `{"stdout", "stderr", "code"}` answer, or keeps an error document as text.
    init(_ result: InvocationResult) {
        let object = (try? JSONSerialization.jsonObject(with: result.payload)) as? [String: Any]
        if result.status == .success, let object {
            stdout = object["stdout"] as? String ?? ""
            stderr = object["stderr"] as? String ?? ""
            code = object["code"] as? Int
            errorType = nil
        } else {
            stdout = ""
            stderr = (object?["errorMessage"] as? String) ?? result.payloadText
            code = nil
            errorType = result.errorType ?? result.report.errorType ?? result.status.rawValue
        }
    }
}

/// How one step ended, judged from the function's answer and the events.
public enum DemoOutcome: String, Sendable, Codable {
    /// The legitimate request was served (exit 0, nothing blocked).
    case succeeded
    /// The legitimate request failed.
    case failed
    /// Kitsune blocked at least one exec of the attack.
    case blocked
    /// Kitsune reported the attack and let it run (audit mode).
    case reported
    /// Nothing was reported: the attack ran unnoticed.
    case ran
}

/// One invocation of the story in one mode.
public struct DemoStepResult: Sendable {
    /// The mode the function ran in.
    public var mode: DemoMode
    /// Position in the story (0-based).
    public var index: Int
    /// Number of steps in the story.
    public var count: Int
    /// The request.
    public var step: DemoStory.Step
    /// The emulator's request id.
    public var requestId: String
    /// How the invocation ended for Lambda.
    public var status: InvocationResult.Status
    /// The function's answer.
    public var answer: DemoAnswer
    /// The REPORT figures.
    public var report: InvocationReport
    /// The enforcer's decisions during this invocation (`blocked` / `reported`), in order.
    public var events: [DemoEvent]
    /// The enforcer's `started` event, when it was in this invocation's logs (the cold start).
    public var started: DemoEvent?
    /// The full logs of the invocation.
    public var logs: String
    /// Whether the policy has a `honeypot:` section (kept from the layer's default policy).
    public var honeypotConfigured: Bool

    /// Whether the answer holds the step's evidence (the attack did what it wanted).
    public var evidenceSeen: Bool {
        guard let evidence = step.evidence else { return false }
        return answer.stdout.contains(evidence) || answer.stderr.contains(evidence)
    }

    /// The step's verdict.
    public var outcome: DemoOutcome {
        if !step.attack {
            let served = status == .success && answer.code == 0 && !events.contains { $0.action == "blocked" }
            return served ? .succeeded : .failed
        }
        if events.contains(where: { $0.action == "blocked" }) { return .blocked }
        return events.isEmpty ? .ran : .reported
    }

    /// The decision that tells the step's story. Among the events naming the step's rule: one about a
    /// file that was accessed (a decoy that was opened), else a blocked one, else one whose main
    /// reason is the rule. Otherwise the first blocked event, else the first event.
    public var headline: DemoEvent? {
        if let rule = step.rule {
            let naming = events.filter { $0.reason == rule || $0.reasons.contains(rule) }
            if let e = naming.first(where: { $0.file != nil && $0.reason == rule })
                ?? naming.first(where: { $0.action == "blocked" }) ?? naming.first(where: { $0.reason == rule }) {
                return e
            }
        }
        return events.first { $0.action == "blocked" } ?? events.first
    }

    /// Why this step breaks the story's promise (exit code 1), or `nil`: the legitimate request must
    /// be served in every mode; in enforce mode every attack must be blocked and must not show its evidence.
    public var problem: String? {
        if !step.attack {
            return outcome == .succeeded ? nil : "the legitimate request failed in \(mode) mode"
        }
        if step.onlyReported {
            let seen = events.contains { $0.reason == step.rule || $0.reasons.contains(step.rule ?? "") }
            return seen ? nil : "\(step.label): no `\(step.rule ?? "?")` event in \(mode) mode"
        }
        guard mode == .enforce else { return nil }
        if outcome != .blocked { return "\(step.label): not blocked in enforce mode (\(outcome.rawValue))" }
        if evidenceSeen { return "\(step.label): blocked, yet its effect shows in the answer" }
        return nil
    }
}

/// The whole demo: every step of every mode.
public struct DemoRun: Sendable {
    /// The modes that ran, in order.
    public var modes: [DemoMode]
    /// The story that was told.
    public var story: DemoStory
    /// The runtime the function ran on (e.g. python3.11).
    public var runtime: String
    /// Every step result, mode by mode.
    public var steps: [DemoStepResult]
    /// The policy each mode baked into the layer.
    public var policies: [DemoMode: String]
    /// Whether the layer's default policy had a `honeypot:` section (kept in the demo's policy).
    public var policyHasHoneypot: Bool
    /// The working directory, when it was kept (`--keep`).
    public var keptWorkspace: URL?

    /// The steps breaking the story's promise, one message each.
    public var problems: [String] { steps.compactMap(\.problem) }

    /// 0 when the story ran as expected, 1 when an attack succeeded in enforce mode or the legitimate request failed.
    public var exitCode: Int32 { problems.isEmpty ? 0 : 1 }

    /// The result of `step` in `mode`.
    public func result(_ mode: DemoMode, _ stepID: String) -> DemoStepResult? {
        steps.first { $0.mode == mode && $0.step.id == stepID }
    }
}
