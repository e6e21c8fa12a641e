import NIOCore
import NIOHTTPTypes

/// A request's body must arrive within `timeout` of its head, or the connection is closed: a client
/// that sends the head of a 4 MiB batch and then a byte a minute (a slow-body attack) holds neither
/// the socket nor a handler for ever. Measured on the connection, from the head to the end of the
/// body, whether or not a handler reads it (a 401 leaves the rest to be drained; a slow handler that
/// ignores a body it got is not cut short). Requests without a body end at once.
final class BodyDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private var pending: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            pending?.cancel()
            let loop = context.eventLoop.assumeIsolated()
            pending = loop.scheduleTask(in: timeout) { context.close(promise: nil) }
        case .end:
            pending?.cancel()
            pending = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.cancel()
        pending = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pending?.cancel()
        pending = nil
    }
}
