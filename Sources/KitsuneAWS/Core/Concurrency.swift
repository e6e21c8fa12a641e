/// Runs `body` over `items` with at most `limit` calls in flight (large accounts: thousands of
/// functions without flooding the API). Results keep the order of `items`; each item's failure is
/// kept as its `Result` so one bad function does not hide the others.
public func boundedMap<T: Sendable, R: Sendable>(
    _ items: [T], limit: Int, progress: (@Sendable (Int, Int) -> Void)? = nil,
    _ body: @escaping @Sendable (T) async throws -> R
) async -> [Result<R, any Error>] {
    var results = [Result<R, any Error>?](repeating: nil, count: items.count)
    let width = max(1, limit)
    await withTaskGroup(of: (Int, Result<R, any Error>).self) { group in
        var next = 0
        var done = 0
        func add() {
            let index = next
            let item = items[index]
            group.addTask {
                do { return (index, .success(try await body(item))) } catch { return (index, .failure(error)) }
            }
            next += 1
        }
        while next < items.count && next < width { add() }
        for await (index, result) in group {
            results[index] = result
            done += 1
            progress?(done, items.count)
            if next < items.count { add() }
        }
    }
    return results.map { $0 ?? .failure(AWSError.invalidInput("internal: task did not complete")) }
}
