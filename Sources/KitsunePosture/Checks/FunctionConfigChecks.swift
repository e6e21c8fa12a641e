import Foundation

/// Per-function configuration checks: Lambda Insights (4.2), code signing (4.8), runtime (4.11),
/// environment encryption with a CMK (4.12), tracing, reserved concurrency, DLQ, VPC.
public struct FunctionConfigChecks: CheckFamily {
    public init() {}

    public var checkIDs: [String] {
        ["lambda-insights", "code-signing", "runtime-deprecated", "env-cmk-encryption", "tracing-enabled",
         "reserved-concurrency", "dead-letter-queue", "vpc-configured"]
    }

    public func evaluate(_ id: String, on target: CheckTarget, context: CheckContext) -> CheckOutcome? {
        guard case .function(let f) = target else { return nil }
        switch id {
        case "lambda-insights": return insights(f, context)
        case "code-signing":
            return require(f.codeSigningConfigArn, "code signing configuration") { arn in
                arn.map { CheckOutcome(.pass, "Code signing config \($0) is attached.") }
                    ?? CheckOutcome(.fail, "Function \(f.name) has no code signing config: unsigned or tampered code packages deploy.")
            }
        case "runtime-deprecated": return runtime(f, context)
        case "env-cmk-encryption":
            guard let env = f.environment.value else { return .cannotEvaluate("environment of \(f.name): \(f.environment.reason ?? "")") }
            if env.isEmpty { return CheckOutcome(.pass, "Function \(f.name) has no environment variables.") }
            return require(f.kmsKeyArn, "KMS key") { key in
                key.map { CheckOutcome(.pass, "Environment variables are encrypted with \($0).") }
                    ?? CheckOutcome(.fail, "Function \(f.name) has \(env.count) environment variable(s) encrypted only with the AWS managed key aws/lambda: anyone who can read the function configuration sees them.")
            }
        case "tracing-enabled":
            return require(f.tracingMode, "tracing configuration") { mode in
                mode == "Active" ? CheckOutcome(.pass, "X-Ray active tracing is on.")
                    : CheckOutcome(.fail, "Function \(f.name) tracing mode is \(mode ?? "PassThrough"), not Active.")
            }
        case "reserved-concurrency":
            return require(f.reservedConcurrency, "concurrency") { set in
                set ? CheckOutcome(.pass, "Reserved concurrency is set.")
                    : CheckOutcome(.fail, "Function \(f.name) has no reserved concurrency limit.")
            }
        case "dead-letter-queue":
            return require(f.deadLetterTarget, "dead-letter configuration") { target in
                target.map { CheckOutcome(.pass, "Dead-letter target \($0).") }
                    ?? CheckOutcome(.fail, "Function \(f.name) has no dead-letter queue: failed asynchronous events are dropped.")
            }
        case "vpc-configured":
            return require(f.inVPC, "VPC configuration") { inVPC in
                inVPC ? CheckOutcome(.pass, "Function runs in a VPC.")
                      : CheckOutcome(.fail, "Function \(f.name) is not attached to a VPC.")
            }
        default: return nil
        }
    }

    private func require<T>(_ fact: Observed<T>, _ what: String, _ body: (T) -> CheckOutcome) -> CheckOutcome {
        switch fact {
        case .known(let value): return body(value)
        case .unavailable(let why): return .cannotEvaluate("\(what): \(why)")
        }
    }

    private func insights(_ f: LambdaFunction, _ context: CheckContext) -> CheckOutcome {
        require(f.layers, "layers") { layers in
            let spec = context.risk.lambdaInsightsLayer
            let found = layers.first { arn in
                let parts = arn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                return parts.count >= 7 && parts[4] == spec.account && parts[6].hasPrefix(spec.layerPrefix)
            }
            return found.map { CheckOutcome(.pass, "Lambda Insights layer \($0) is attached.") }
                ?? CheckOutcome(.fail, "Function \(f.name) does not have the LambdaInsightsExtension layer: no per-invocation CPU, memory and network metrics.")
        }
    }

    private func runtime(_ f: LambdaFunction, _ context: CheckContext) -> CheckOutcome {
        require(f.runtime, "runtime") { runtime in
            guard let runtime else {
                return CheckOutcome(.manual, "Function \(f.name) is a container image: its runtime is inside the image; check the base image's support dates.")
            }
            let table = "(runtime table compiled \(context.runtimes.compiled) from \(context.runtimes.source))"
            switch context.runtimes.status(of: runtime, on: context.now) {
            case .deprecated(let r):
                return CheckOutcome(.fail, "Function \(f.name) uses \(r.id) (\(r.name)), deprecated since \(r.deprecation): it no longer receives security patches \(table).",
                                    properties: ["runtime": r.id, "deprecation_date": r.deprecation])
            case .supported(let r, let days):
                let soon = days <= 180 ? " Deprecation is in \(days) days: plan the upgrade." : ""
                return CheckOutcome(.pass, "Runtime \(r.id) is supported until \(r.deprecation).\(soon)",
                                    properties: ["runtime": r.id, "deprecation_date": r.deprecation])
            case .unknown(let id):
                return CheckOutcome(.manual, "Runtime '\(id)' of \(f.name) is not in Kitsune's runtime table \(table); check it on the source page.")
            }
        }
    }
}
