import Foundation
import XCTest
@testable import KitsuneAWS

/// `boundedMap`: never more than `limit` calls in flight, order kept, failures kept per item.
final class ConcurrencyTests: XCTestCase {
    actor Gauge {
        private(set) var current = 0
        private(set) var peak = 0
        private(set) var progress: [Int] = []
        func enter() { current += 1; peak = max(peak, current) }
        func leave() { current -= 1 }
        func report(_ done: Int) { progress.append(done) }
    }

    struct Odd: Error {}

    func testLimitOrderAndPerItemFailures() async {
        let gauge = Gauge()
        let results = await boundedMap(Array(0..<40), limit: 3) { value -> Int in
            await gauge.enter()
            try? await Task.sleep(nanoseconds: UInt64((value % 4) * 2_000_000))
            await gauge.leave()
            if value % 7 == 3 { throw Odd() }
            return value * 2
        }
        let peak = await gauge.peak
        XCTAssertLessThanOrEqual(peak, 3)
        XCTAssertGreaterThan(peak, 1, "work actually ran concurrently")
        XCTAssertEqual(results.count, 40)
        for (index, result) in results.enumerated() {
            switch result {
            case .success(let value): XCTAssertEqual(value, index * 2, "order kept")
            case .failure: XCTAssertEqual(index % 7, 3, "only the failing items failed")
            }
        }
        let empty = await boundedMap([Int](), limit: 4) { $0 }
        XCTAssertEqual(empty.count, 0)
    }
}
