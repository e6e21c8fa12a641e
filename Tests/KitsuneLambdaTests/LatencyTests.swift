import Foundation
import XCTest
@testable import KitsuneLambda

/// Warm invoke round trip through the real awslambdaric (printed for the benchmark notes).
final class LatencyTests: LambdaTestCase {
    func testWarmRoundTripOverThousandInvocations() throws {
        try Fixture.requireAwslambdaric()
        let emulator = try LambdaEmulator(configuration: EmulatorConfiguration(
            code: try Fixture.package([("python/noop.py", "noop.py", 0o644)]), handler: "noop.handler", runtime: "python3.11"))
        defer { emulator.shutdown() }
        _ = emulator.invoke(InvocationRequest(payload: Data("{}".utf8))) // cold start
        var samples: [Double] = []
        var durations: [Double] = []
        for _ in 0..<1000 {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = emulator.invoke(InvocationRequest(payload: Data("{}".utf8)))
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            durations.append(result.report.durationMs)
            XCTAssertEqual(result.status, .success)
        }
        samples.sort()
        durations.sort()
        let p50 = samples[499], p99 = samples[989]
        print(String(format: "LATENCY warm invoke round trip (1000, no-op python3.11 under awslambdaric): p50 %.3f ms p99 %.3f ms; REPORT Duration p50 %.3f ms p99 %.3f ms; memory via %@",
                     p50, p99, durations[499], durations[989], emulator.memorySource))
        XCTAssertLessThan(p50, 20, "a warm no-op round trip should take well under 20 ms")
    }
}
