import Hummingbird
import NIOCore
import Synchronization

/// A request's body must arrive within `timeout` of its headers: a client that sends the headers of
/// a 4 MiB batch and then a byte a minute (a slow-body attack) has its connection closed instead of
/// holding it, and the handler waiting on it, for ever. Requests without a body are not watched.
struct BodyDeadline: RouterMiddleware {
    let timeout: Duration

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let channel = context.channel,
              request.headers[.transferEncoding] != nil || (request.headers[.contentLength].flatMap { Int($0) } ?? 0) > 0 else {
            return try await next(request, context)
        }
        let arrived = Flag()
        var request = request
        request.body = RequestBody(asyncSequence: WatchedBody(base: request.body, arrived: arrived))
        let timeout = self.timeout
        let watch = Task {
            try await Task.sleep(for: timeout)
            if !arrived.isSet { channel.close(mode: .all, promise: nil) }
        }
        defer { watch.cancel() }
        return try await next(request, context)
    }

    /// Set once, read from any thread.
    final class Flag: Sendable {
        private let value = Atomic(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// The body as it was, marking `arrived` when its end is read.
    struct WatchedBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let base: RequestBody
        let arrived: Flag

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: RequestBody.AsyncIterator
            let arrived: Flag
            mutating func next() async throws -> ByteBuffer? {
                let part = try await base.next()
                if part == nil { arrived.set() }
                return part
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), arrived: arrived) }
    }
}
